// Parsing client input with a schema: the value, or a 422 that names the first problem and where.
import type { z } from 'zod';
import { ValidationError } from './errors';

/** `what` names the input when the problem is the whole of it (`body`, `item id`, `query`). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string, prefix = ''): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : what;
  throw new ValidationError(`${prefix}${where}: ${issue?.message ?? 'invalid'}`);
}
