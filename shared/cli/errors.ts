// What the command line refuses before doing anything: the CLI prints one line and exits with 2.

/** The command line cannot be understood: one line saying why, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
