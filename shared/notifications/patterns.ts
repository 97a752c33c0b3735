// What a rule's regular expression may be. RE2 matches in time linear in the text, but a pattern's
// own size multiplies it: `(?:a|aa|[\s\S]){1000}` compiles to thousands of states and takes seconds
// on a long value. So patterns are short, their counted repetitions small, and the text they read cut.

/** Characters of a pattern. */
export const PATTERN_MAX_LENGTH = 256;
/** The sum of every `{n}`, `{n,}` and `{n,m}` bound in a pattern (nesting multiplies them). */
export const PATTERN_MAX_REPETITION = 100;
/** Regex filters (`regex`, `nregex`) in one rule. */
export const PATTERN_FILTERS_PER_RULE = 5;
/** Characters of a field a regex reads. */
export const PATTERN_TEXT_LIMIT = 2_000;

/** Why a pattern may not be used, or undefined when it may (whether RE2 compiles it is checked apart). */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length > PATTERN_MAX_LENGTH) return `longer than ${PATTERN_MAX_LENGTH} characters`;
  let repetition = 0;
  for (const match of pattern.matchAll(/(?<!\\)\{(\d+)(?:,(\d*))?\}/g)) {
    repetition += Math.max(Number(match[1]), Number(match[2] || 0));
  }
  if (repetition > PATTERN_MAX_REPETITION) {
    return `its counted repetitions add up to ${repetition}, over ${PATTERN_MAX_REPETITION}`;
  }
  return undefined;
}
