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

export function createGroupingWorker(deps: { writer: OccurrenceWriter }) {
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
      // Whatever was stored is recognised by its uuid when these messages come back.
      logger.error('batch not stored; it will be delivered again', {
        error: error as Error,
        uuids: prepared.map((entry) => entry.occurrence.uuid),
      });
      return {
        failedMessageIds: [...failed, ...prepared.map((entry) => entry.messageId)],
        report: { stored: 0, duplicates: 0, retries: 0 },
      };
    }
  };
}
