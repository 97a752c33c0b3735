// Project names: the one pattern a new project's name must follow, and the message that says so.
import { InvalidProjectNameError } from './errors';

/**
 * Lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, up to 64 characters.
 * Names are typed on the command line, appear in keys of the projects table and will appear in
 * URLs, so they avoid spaces, case (`Shop` and `shop` would be two projects) and shell characters.
 */
export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The name, when a new project may take it; otherwise an error that says what a name may be. */
export function checkProjectName(name: string): string {
  if (!PROJECT_NAME_PATTERN.test(name)) {
    // A name pasted by mistake can be long: the message shows its start, on one line.
    const shown = JSON.stringify(name.length > 70 ? `${name.slice(0, 64)}…` : name);
    throw new InvalidProjectNameError(
      `invalid project name ${shown}: use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}
