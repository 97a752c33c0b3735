// The grouping worker's service: parse a batch of queued occurrences, group them, store them.
import { logger } from '#shared/observability';
import { occurrenceMessageSchema } from '#shared/queue/ingest-queue';
import type { WriteReport } from '#shared/store/grouping-store';
import { type PreparedOccurrence, prepareOccurrence } from './occurrence';

export interface QueuedMessage {
  messageId: string;
  body: string;
}

export interface OccurrenceWriter {
  write(batch: readonly PreparedOccurrence[]): Promise<WriteReport>;
}

export interface BatchResult {
  /** Messages to be delivered again; after the queue's maxReceiveCount they go to its dead-letter queue. */
  failedMessageIds: string[];
  report: WriteReport;
}

/** How long a failed batch may spend storing its occurrences one by one, within the function's timeout. */
const SINGLE_WRITES_BUDGET_MS = 10_000;

export function createGroupingWorker(deps: { writer: OccurrenceWriter; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return async function processBatch(messages: readonly QueuedMessage[]): Promise<BatchResult> {
    const failed: string[] = [];
    const prepared: { messageId: string; occurrence: PreparedOccurrence }[] = [];
    for (const message of messages) {
      try {
        const parsed = occurrenceMessageSchema.parse(JSON.parse(message.body));
        prepared.push({ messageId: message.messageId, occurrence: prepareOccurrence(parsed) });
      } catch (error) {
        // Ingest validated it, so this is a poison message: fail it until it lands in the dead-letter queue.
        logger.error('unreadable occurrence message', {
          messageId: message.messageId,
          error: error as Error,
        });
        failed.push(message.messageId);
      }
    }
    if (prepared.length === 0)
      return { failedMessageIds: failed, report: { stored: 0, duplicates: 0, retries: 0 } };
    try {
      const report = await deps.writer.write(prepared.map((entry) => entry.occurrence));
      logger.info('batch grouped', { ...report, messages: messages.length });
      return { failedMessageIds: failed, report };
    } catch (error) {
      logger.warn('batch not stored whole; storing its occurrences one by one', { error: error as Error });
    }
    // One occurrence that can never be stored must not take the rest of its batch to the
    // dead-letter queue with it. What the batch stored already is recognised by its uuid.
    const report: WriteReport = { stored: 0, duplicates: 0, retries: 0 };
    const deadline = now() + SINGLE_WRITES_BUDGET_MS;
    for (const { messageId, occurrence } of prepared) {
      if (now() > deadline) {
        failed.push(messageId);
        continue;
      }
      try {
        const single = await deps.writer.write([occurrence]);
        report.stored += single.stored;
        report.duplicates += single.duplicates;
        report.retries += single.retries;
      } catch (error) {
        logger.error('occurrence not stored; it will be delivered again', {
          error: error as Error,
          uuid: occurrence.uuid,
          project_id: occurrence.projectId,
        });
        failed.push(messageId);
      }
    }
    return { failedMessageIds: failed, report };
  };
}
