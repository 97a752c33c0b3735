// Plays Lambda's SQS event source mapping: batches, partial batch failures, redelivery by visibility timeout.
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { invoke, type LoadedFunction } from './lambda-runtime';
import type { PollerGate } from './poller-gate';

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  function: LoadedFunction;
  /** Most records in one invocation (Lambda allows up to 10 000 with a batching window). */
  batchSize: number;
  /** How long to keep gathering a batch after the first message arrives. */
  maxBatchingWindowSeconds: number;
  region?: string;
  logError?: (message: string, error: unknown) => void;
  /** Holds polling between batches while closed (a region cut off in the two-region simulation). */
  gate?: PollerGate;
}

export interface SqsPoller {
  /** Resolves once the queue holds no message, visible, in flight or delayed, and no batch runs. */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops polling and waits for the batch in flight. */
  stop(): Promise<void>;
}

const RECEIVE_MAX = 10;
const LONG_POLL_SECONDS = 20;

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { client, queueUrl } = options;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const abort = new AbortController();
  let processing = false;

  async function receive(max: number, waitSeconds: number): Promise<Message[]> {
    const output = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(RECEIVE_MAX, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    return output.Messages ?? [];
  }

  /** Long-polls for a first message, then keeps receiving until the batch is full or the window ends. */
  async function gatherBatch(): Promise<Message[]> {
    const batch = await receive(options.batchSize, LONG_POLL_SECONDS);
    if (batch.length === 0) return batch;
    const windowEnd = Date.now() + options.maxBatchingWindowSeconds * 1000;
    while (batch.length < options.batchSize && Date.now() < windowEnd && !abort.signal.aborted) {
      const more = await receive(options.batchSize - batch.length, 0);
      if (more.length > 0) batch.push(...more);
      else await sleep(Math.min(50, windowEnd - Date.now()));
    }
    return batch;
  }

  async function processBatch(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options)) };
    let failed: Set<string>;
    try {
      const result = await invoke(options.function, event);
      failed = failedMessageIds(result, event);
    } catch (error) {
      // A failed invocation deletes nothing: the whole batch comes back after its visibility timeout.
      logError(`${options.function.name}: batch of ${messages.length} failed`, error);
      return;
    }
    const succeeded = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    for (let start = 0; start < succeeded.length; start += RECEIVE_MAX) {
      const chunk = succeeded.slice(start, start + RECEIVE_MAX);
      const output = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      if (output.Failed && output.Failed.length > 0) {
        logError(
          `${options.function.name}: could not delete ${output.Failed.length} messages`,
          output.Failed,
        );
      }
    }
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await options.gate?.opened();
        if (abort.signal.aborted) break;
        const batch = await gatherBatch();
        if (batch.length === 0 || abort.signal.aborted) {
          // Stopped while gathering: the messages return to the queue after their visibility timeout.
          continue;
        }
        processing = true;
        // Held meanwhile: the batch received just before runs when the gate opens, as an invocation
        // Lambda had started would have.
        if (options.gate) await options.gate.run(() => processBatch(batch));
        else await processBatch(batch);
      } catch (error) {
        if (abort.signal.aborted) break;
        logError(`${options.function.name}: polling ${queueUrl} failed`, error);
        await sleep(1000);
      } finally {
        processing = false;
      }
    }
  })();

  async function queueIsEmpty(): Promise<boolean> {
    const { Attributes: attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(attributes).every((count) => Number(count) === 0);
  }

  return {
    async idle({ timeoutMs = 20_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!processing && (await queueIsEmpty()) && !processing) return;
        if (Date.now() > deadline) throw new Error(`${queueUrl} was not drained within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/** A received message as Lambda hands it to a function. */
export function toRecord(
  message: Message,
  options: Pick<SqsPollerOptions, 'queueArn' | 'region'>,
): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((binary) =>
        Buffer.from(binary).toString('base64'),
      ),
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '123456789012',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region ?? 'us-east-1',
  };
}

/**
 * The message ids to keep, per ReportBatchItemFailures: none when the response lists none; the whole
 * batch when the response names an id that is missing or not in the batch, as Lambda does.
 */
function failedMessageIds(result: unknown, event: SQSEvent): Set<string> {
  const all = new Set(event.Records.map((record) => record.messageId));
  if (typeof result !== 'object' || result === null || !('batchItemFailures' in result)) return new Set();
  const failures = (result as SQSBatchResponse).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown = failure?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
