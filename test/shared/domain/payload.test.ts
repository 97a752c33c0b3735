// The item payload schema's limits on a person: their id goes into DynamoDB keys, so it is capped.
import { describe, expect, it } from 'vitest';
import { itemDataSchema } from '#shared/domain/payload';

const item = (person: Record<string, unknown>) => ({
  environment: 'production',
  body: { message: { body: 'hello' } },
  person,
});

describe("an item's person", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['an id of 255 characters', { id: 'a'.repeat(255) }, 'a'.repeat(255)],
    ['a numeric id, as a string', { id: 42 }, '42'],
    [
      'a username and email of 255 characters',
      { id: 'u', username: 'n'.repeat(255), email: 'e'.repeat(255) },
      'u',
    ],
  ])('with %s is accepted', (_name, person, id) => {
    const parsed = itemDataSchema.safeParse(item(person));
    expect(parsed.success).toBe(true);
    expect(parsed.data?.person?.id).toBe(id);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an id of 256 characters', { id: 'a'.repeat(256) }, 'person.id'],
    ['an id of 300 characters', { id: 'x'.repeat(300) }, 'person.id'],
    ['a username of 256 characters', { id: 'u', username: 'n'.repeat(256) }, 'person.username'],
    ['an email of 256 characters', { id: 'u', email: 'e'.repeat(256) }, 'person.email'],
  ])('with %s is refused', (_name, person, where) => {
    const parsed = itemDataSchema.safeParse(item(person));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path.join('.')).toBe(where);
  });
});
