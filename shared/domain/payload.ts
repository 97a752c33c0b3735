// The Rollbar API v1 item payload: the schema every ingested item is parsed with, and its types.
// Unknown fields are kept (Rollbar SDKs send more than this names) so nothing a client sent is lost.
// Ingest first reads a posted item leniently (payload-normalization.ts), so the limits here are the
// shape the storing worker relies on, not reasons to refuse an occurrence.
import { z } from 'zod';

export const LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** Rollbar accepts `warn` from some SDKs and maps it to `warning`. */
const levelSchema = z.preprocess(
  (value) => (value === 'warn' ? 'warning' : value),
  z.enum(LEVELS, { error: `level must be one of ${LEVELS.join(', ')}` }),
);

const shortText = (max: number) => z.string().max(max);

export const frameSchema = z.looseObject({
  filename: z.string().max(2048),
  lineno: z.number().int().nullish(),
  colno: z.number().int().nullish(),
  method: z.string().max(2048).nullish(),
  code: z.string().nullish(),
  class_name: z.string().nullish(),
});
export type Frame = z.infer<typeof frameSchema>;

export const traceSchema = z.looseObject({
  frames: z.array(frameSchema).max(10_000),
  exception: z.looseObject({
    class: shortText(1024),
    message: z.string().nullish(),
    description: z.string().nullish(),
  }),
});
export type Trace = z.infer<typeof traceSchema>;

const messageSchema = z.looseObject({ body: z.string() });
const crashReportSchema = z.looseObject({ raw: z.string() });

export const bodySchema = z
  .looseObject({
    trace: traceSchema.optional(),
    trace_chain: z.array(traceSchema).min(1).max(100).optional(),
    message: messageSchema.optional(),
    crash_report: crashReportSchema.optional(),
  })
  .refine(
    // Rollbar asks for exactly one; with more, grouping and the title read the first of trace_chain,
    // trace, message, crash_report, and the others are kept in the payload.
    (body) =>
      [body.trace, body.trace_chain, body.message, body.crash_report].some((part) => part !== undefined),
    { message: 'one of trace, trace_chain, message, crash_report is required' },
  );
export type ItemBody = z.infer<typeof bodySchema>;

/**
 * A person's id goes into DynamoDB keys (the item's people, the person's listing), where a key over
 * its size limit is refused and would stop the fold; 255 characters stay far below it. A person
 * without an id (`id: null`) is kept in the payload and counted as nobody.
 */
const personSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).pipe(shortText(255)).optional(),
  username: shortText(255).nullish(),
  email: shortText(255).nullish(),
});
export type Person = z.infer<typeof personSchema>;

export const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A uuid as stored: lowercase, with dashes, however the client wrote it. */
export function canonicalUuid(uuid: string): string {
  const hex = uuid.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const itemDataSchema = z.looseObject({
  environment: shortText(255).min(1, 'environment must not be empty'),
  body: bodySchema,
  level: levelSchema.optional(),
  timestamp: z.number().nonnegative().optional(),
  // Rollbar documents 40 characters, and accepts longer versions: kept whole up to 255.
  code_version: z.union([z.string(), z.number()]).transform(String).pipe(shortText(255)).optional(),
  platform: shortText(255).optional(),
  language: shortText(255).optional(),
  framework: shortText(255).optional(),
  context: shortText(255).optional(),
  request: z.looseObject({}).optional(),
  person: personSchema.optional(),
  server: z
    .looseObject({ host: z.string().optional(), root: z.string().optional(), branch: z.string().optional() })
    .optional(),
  client: z.looseObject({}).optional(),
  custom: z.looseObject({}).optional(),
  fingerprint: shortText(40).min(1).optional(),
  title: shortText(255).optional(),
  uuid: z.string().regex(UUID_PATTERN, 'uuid must be a UUID').optional(),
  notifier: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
});
export type ItemData = z.infer<typeof itemDataSchema>;

export const itemPayloadSchema = z.looseObject({
  access_token: z.string().optional(),
  data: itemDataSchema,
});
export type ItemPayload = z.infer<typeof itemPayloadSchema>;
