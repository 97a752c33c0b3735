// The grouping worker's service: parse a batch of queued occurrences, group them, store them.
import { logger } from '#shared/observability';
import { occurrenceMessageSchema } from '#shared/queue/ingest-queue';
import type { WriteReport } from '#shared/store/occurrence-writer';
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
  stored: number;
  duplicates: number;
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
    if (prepared.length === 0) return { failedMessageIds: failed, stored: 0, duplicates: 0 };
    try {
      const report = await deps.writer.write(prepared.map((entry) => entry.occurrence));
      // Each occurrence is its own write: one that cannot be stored fails alone, and only its
      // message comes back (a stored one is recognised by its uuid if it does).
      report.outcomes.forEach((outcome, index) => {
        if (typeof outcome !== 'object') return;
        const { messageId, occurrence } = prepared[index]!;
        logger.error('occurrence not stored; it will be delivered again', {
          error: outcome.error as Error,
          uuid: occurrence.uuid,
          project_id: occurrence.projectId,
        });
        failed.push(messageId);
      });
      logger.info('batch stored', {
        stored: report.stored,
        duplicates: report.duplicates,
        failed: report.failed,
        messages: messages.length,
      });
      return { failedMessageIds: failed, stored: report.stored, duplicates: report.duplicates };
    } catch (error) {
      // The payloads could not be encoded (their dictionary could not be read or written): retry all.
      logger.error('batch not stored; it will be delivered again', { error: error as Error });
      return {
        failedMessageIds: [...failed, ...prepared.map((entry) => entry.messageId)],
        stored: 0,
        duplicates: 0,
      };
    }
  };
}
