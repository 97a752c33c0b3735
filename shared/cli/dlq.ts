// `faultline dlq list|show|redrive`: the dead-letter queues of the ingest and notification queues,
// read without losing a message, and redriven to their source queue without ever looping.
//
// SQS has no way to look at a message without receiving it: list and show receive every message
// with a short visibility timeout, then make each visible again at once. Redrive is a receive, send,
// delete loop that deletes a dead letter only after its copy is in the source queue, so a failure
// between the two leaves a duplicate at worst (harmless: the storing worker writes an occurrence
// once, the sender delivers once per delivery key), never a loss. SQS's StartMessageMoveTask does
// the same server-side, but the local SQS emulator has no such call.
import { readFile } from 'node:fs/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type QueueName, queues } from '#shared/wiring/topology';
import { UsageError } from './errors';
import { LOCAL_STACK_FILE, type LocalStackDescription } from './local-stack-file';
import { type ProgressStream, progressBar } from './progress';

export const DLQ_USAGE = '  faultline dlq list|show <message id>|redrive [--queue ingest|notifications]';

export const DLQ_HELP = `Dead letters (faultline dlq; by default the running local stack's queues):
  --queue ingest|notifications   whose dead-letter queue (default: ingest)
  --queue-url <url> --dead-letter-queue-url <url>
                                 a deployed stack's queue and its dead-letter queue (the stack's
                                 IngestQueueUrl and IngestDeadLetterQueueUrl outputs, or Notification…),
                                 with --region`;

/** The queues a command works on: the source queue and its dead-letter queue. */
export interface DeadLetterQueues {
  name: QueueName;
  source: string;
  deadLetter: string;
}

/** One dead letter as `list` shows it. */
export interface DeadLetterLine {
  id: string;
  /** When it was first received from its source queue (ISO 8601), when SQS says. */
  first_received: string | null;
  receive_count: number;
  /** What it is about: project and occurrence uuid, or rule and delivery key. */
  summary: string;
}

export interface DeadLetterList {
  queue: QueueName;
  /** Approximate, as SQS counts. */
  count: number;
  /** Age of the oldest message listed, in seconds (null when none). */
  oldest_age_seconds: number | null;
  messages: DeadLetterLine[];
}

/** The message named is not in the dead-letter queue (moved, expired, or never there). */
export class DeadLetterNotFoundError extends Error {
  override readonly name = 'DeadLetterNotFoundError';
}

/** While listing, a received message stays hidden this long; each is made visible again at once. */
const LOOK_SECONDS = 30;
/** While redriving, a received message stays hidden this long: enough to send and delete it. */
const MOVE_SECONDS = 60;
const ALL = ['All'] as const;

/** Receives every message in the dead-letter queue once, hands them over, then makes them visible again. */
async function lookAt<T>(
  sqs: SQSClient,
  url: string,
  use: (messages: Message[]) => T,
  enough: (messages: Message[]) => boolean = () => false,
): Promise<T> {
  const seen = new Map<string, Message>();
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: LOOK_SECONDS,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: [...ALL],
          MessageAttributeNames: [...ALL],
        }),
      );
      const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
      for (const message of fresh) seen.set(message.MessageId!, message);
      if (fresh.length === 0 || enough([...seen.values()])) break;
    }
    return use([...seen.values()]);
  } finally {
    await release(sqs, url, [...seen.values()]);
  }
}

/** Makes received messages visible again now. */
async function release(sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

async function approximateCount(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

const timestamp = (message: Message, name: 'SentTimestamp' | 'ApproximateFirstReceiveTimestamp') => {
  const value = message.Attributes?.[name];
  return value === undefined ? undefined : Number(value);
};

/** `project 3 uuid 1f0c…` for an occurrence, `rule 7 key …` for a delivery, else what the body starts with. */
export function summaryOf(body: string | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return `unreadable: ${JSON.stringify((body ?? '').slice(0, 60))}`;
  }
  if (!parsed || typeof parsed !== 'object')
    return `unreadable: ${JSON.stringify((body ?? '').slice(0, 60))}`;
  const fields = parsed as Record<string, unknown>;
  const parts: string[] = [];
  for (const [label, key] of [
    ['project', 'project_id'],
    ['uuid', 'uuid'],
    ['rule', 'rule_id'],
    ['key', 'key'],
  ] as const) {
    const value = fields[key];
    if (typeof value === 'string' || typeof value === 'number') parts.push(`${label} ${value}`);
  }
  return parts.length > 0 ? parts.join(' ') : `JSON with ${Object.keys(fields).slice(0, 5).join(', ')}`;
}

export async function listDeadLetters(
  sqs: SQSClient,
  target: DeadLetterQueues,
  now: () => number = Date.now,
): Promise<DeadLetterList> {
  const count = await approximateCount(sqs, target.deadLetter);
  return lookAt(sqs, target.deadLetter, (messages) => {
    const sent = messages.map((message) => timestamp(message, 'SentTimestamp') ?? now());
    const firstReceived = (message: Message) => timestamp(message, 'ApproximateFirstReceiveTimestamp');
    return {
      queue: target.name,
      count: Math.max(count, messages.length),
      oldest_age_seconds: sent.length > 0 ? Math.round((now() - Math.min(...sent)) / 1000) : null,
      messages: messages
        .sort((a, b) => (timestamp(a, 'SentTimestamp') ?? 0) - (timestamp(b, 'SentTimestamp') ?? 0))
        .map((message) => {
          const first = firstReceived(message);
          return {
            id: message.MessageId!,
            first_received: first === undefined ? null : new Date(first).toISOString(),
            // This look is one receive more, which it does not count.
            receive_count: Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
            summary: summaryOf(message.Body),
          };
        }),
    };
  });
}

/** One dead letter in full: its attributes, its message attributes and its body (parsed when JSON). */
export async function showDeadLetter(sqs: SQSClient, target: DeadLetterQueues, id: string) {
  const found = await lookAt(
    sqs,
    target.deadLetter,
    (messages) => messages.find((message) => message.MessageId === id),
    (messages) => messages.some((message) => message.MessageId === id),
  );
  if (!found) throw new DeadLetterNotFoundError(`no message ${id} in the ${target.name} dead-letter queue`);
  let body: unknown = found.Body;
  try {
    body = JSON.parse(found.Body ?? '');
  } catch {
    // Shown as the text it is.
  }
  const sent = timestamp(found, 'SentTimestamp');
  const first = timestamp(found, 'ApproximateFirstReceiveTimestamp');
  return {
    id: found.MessageId,
    queue: target.name,
    sent: sent === undefined ? null : new Date(sent).toISOString(),
    first_received: first === undefined ? null : new Date(first).toISOString(),
    receive_count: Math.max(0, Number(found.Attributes?.ApproximateReceiveCount ?? 1) - 1),
    message_attributes: Object.fromEntries(
      Object.entries(found.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue ?? value.BinaryValue,
      ]),
    ),
    body,
  };
}

export interface RedriveSummary {
  queue: QueueName;
  moved: number;
  /** Messages in the dead-letter queue when it ended (approximate). */
  left: number;
}

/**
 * Moves the dead letters back to their source queue, only those there when it started: at most the
 * count read first, and it stops at the first message it already moved, or one sent after it
 * started (a moved message that failed again). Such a message stays in the dead-letter queue for the
 * next redrive, rather than going round until its receive count runs out again and again.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  target: DeadLetterQueues,
  progress: ProgressStream,
  options: { now?: () => number; onMoved?: (moved: number) => Promise<void> | void } = {},
): Promise<RedriveSummary> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const bound = await approximateCount(sqs, target.deadLetter);
  const bar = progressBar(`${target.name} dead letters`, bound, progress, 'moved');
  const moved = new Set<string>();
  bar.show(0);
  let done = false;
  while (!done && moved.size < bound) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.deadLetter,
        MaxNumberOfMessages: Math.min(10, bound - moved.size),
        VisibilityTimeout: MOVE_SECONDS,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: [...ALL],
        MessageAttributeNames: [...ALL],
      }),
    );
    if (Messages.length === 0) break;
    const leave: Message[] = [];
    for (const message of Messages) {
      const sent = timestamp(message, 'SentTimestamp') ?? 0;
      if (done || moved.size >= bound || moved.has(message.MessageId!) || sent >= startedAt) {
        done = done || moved.has(message.MessageId!) || sent >= startedAt;
        leave.push(message);
        continue;
      }
      const { MessageId } = await sqs.send(
        new SendMessageCommand({
          QueueUrl: target.source,
          MessageBody: message.Body!,
          MessageAttributes: attributesToSend(message.MessageAttributes),
        }),
      );
      // Deleted only once its copy is in the source queue: a failure in between leaves a duplicate.
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: target.deadLetter, ReceiptHandle: message.ReceiptHandle! }),
      );
      moved.add(MessageId!);
    }
    await release(sqs, target.deadLetter, leave);
    bar.show(moved.size);
    await options.onMoved?.(moved.size);
  }
  bar.end(moved.size);
  return { queue: target.name, moved: moved.size, left: await approximateCount(sqs, target.deadLetter) };
}

/** Message attributes as SendMessage takes them back (a received value carries empty list fields). */
function attributesToSend(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, { DataType, StringValue, BinaryValue }]) => [
      name,
      { DataType, StringValue, BinaryValue },
    ]),
  );
}

/** `--queue ingest|notifications`, default ingest. */
export function queueNameOf(value: string | undefined): QueueName {
  const name = value ?? 'ingest';
  if (!Object.hasOwn(queues, name)) throw new UsageError('--queue is ingest or notifications');
  return name as QueueName;
}

/** `faultline dlq <verb>` as the command line runs it: finds the queues, runs, answers what to print. */
export async function dlqCommand(
  verb: 'list' | 'show' | 'redrive',
  id: string | undefined,
  values: {
    queue?: string;
    'queue-url'?: string;
    'dead-letter-queue-url'?: string;
    region?: string;
    endpoint?: string;
  },
  progress: ProgressStream,
): Promise<unknown> {
  const name = queueNameOf(values.queue);
  const given = [values['queue-url'], values['dead-letter-queue-url']].filter(Boolean).length;
  if (given === 1) throw new UsageError('--queue-url and --dead-letter-queue-url go together');
  const local = given === 0 ? await readLocalStack() : undefined;
  if (given === 0 && !local) {
    throw new UsageError(
      'no queues: start the local stack (npm start) or pass --queue-url and --dead-letter-queue-url',
    );
  }
  const endpoint = values.endpoint ?? local?.endpoints.sqs;
  if (local) {
    // The local stack's queues are named `http://sqs.<region>.localhost:PORT/…`, which not every
    // system's resolver knows is loopback: the emulator's own interceptor resolves them here too.
    const { interceptLocalhostDns } = await import('fauxqs');
    interceptLocalhostDns();
  }
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({
    region: values.region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  try {
    const target: DeadLetterQueues =
      given === 2
        ? { name, source: values['queue-url']!, deadLetter: values['dead-letter-queue-url']! }
        : await localQueues(sqs, name);
    if (verb === 'list') return await listDeadLetters(sqs, target);
    if (verb === 'show') return await showDeadLetter(sqs, target, id!);
    return await redriveDeadLetters(sqs, target, progress);
  } finally {
    sqs.destroy();
  }
}

/** The local stack's queues, by the names it gives them (`faultline-<logical id>`). */
async function localQueues(sqs: SQSClient, name: QueueName): Promise<DeadLetterQueues> {
  const url = async (queueName: string) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: `faultline-${queueName}` }))).QueueUrl!;
  return {
    name,
    source: await url(queues[name].logicalId),
    deadLetter: await url(queues[name].deadLetter.logicalId),
  };
}

/** `list` as lines: the count and oldest age, then one line per message. */
export function deadLetterLines(list: DeadLetterList): string[] {
  const age = list.oldest_age_seconds;
  const header = `${list.queue} dead-letter queue: ${list.count} message${list.count === 1 ? '' : 's'}${
    age === null ? '' : `, oldest ${ageText(age)} old`
  }`;
  return [
    header,
    ...list.messages.map(
      (message) =>
        `${message.id}  first received ${message.first_received ?? 'never'}  received ${message.receive_count} times  ${message.summary}`,
    ),
  ];
}

function ageText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

async function readLocalStack(): Promise<LocalStackDescription | undefined> {
  try {
    return JSON.parse(await readFile(LOCAL_STACK_FILE, 'utf8')) as LocalStackDescription;
  } catch {
    return undefined;
  }
}
