// The storing worker's service: parse a batch of queued occurrences, prepare them (grouping is one step), store each once.
// In several regions it stores only while its region is home; otherwise it forwards the batch to the
// home's queue (`createRegionalStoringWorker`), and it records the deploys edges send through the queue.
import type { QueuedDeployRecorder } from '#shared/ingest/deploy-ingest';
import { countStored, logger } from '#shared/observability';
import {
  isDeployMessage,
  type OccurrenceMessage,
  occurrenceMessageSchema,
  queuedDeployMessageSchema,
} from '#shared/queue/ingest-queue';
import type { Forwarder, ReceivedMessage } from '#shared/regions/forwarder';
import { type HomeReader, storingPartOf } from '#shared/regions/home';
import type { WriteReport } from '#shared/store/occurrence-writer';
import { type PreparedOccurrence, prepareFallbackOccurrence, prepareOccurrence } from './occurrence';

/**
 * How long a batch may spend preparing (grouping, titling, truncating) its occurrences: a third of the
 * storing function's 30 s timeout, leaving the rest for the writes. Past it, the batch's remaining
 * occurrences are stored with the fallback fingerprint rather than letting the batch time out and come
 * back whole, again and again, until the dead-letter queue takes every occurrence in it.
 */
export const PREPARATION_BUDGET_MS = 10_000;
/** An occurrence that takes longer than this to prepare is logged, with its uuid, to be looked into. */
const SLOW_OCCURRENCE_MS = 100;

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
  /** Deploy messages recorded (or found recorded already). */
  deploys?: number;
  /** Messages sent on to the home region's queue. */
  forwarded?: number;
  /** Messages that could not be forwarded now (or were held), re-sent to this queue to wait there. */
  requeued?: number;
}

export interface StoringWorkerOptions {
  writer: OccurrenceWriter;
  preparationBudgetMs?: number;
  /** Milliseconds, monotonic. */
  now?: () => number;
  /**
   * How an occurrence is prepared; `prepareOccurrence` unless told. Tests pass one that fails as a
   * normalizer bug would: no payload known today makes the real one throw, but the next bug might.
   */
  prepare?: (message: OccurrenceMessage) => PreparedOccurrence;
  /**
   * Records deploy messages (deploys posted to an edge region). Without it (one region, where none
   * is ever sent) such a message fails until the dead-letter queue takes it.
   */
  deploys?: QueuedDeployRecorder;
}

export function createStoringWorker(deps: StoringWorkerOptions) {
  const budgetMs = deps.preparationBudgetMs ?? PREPARATION_BUDGET_MS;
  const now = deps.now ?? (() => performance.now());
  const prepare = deps.prepare ?? prepareOccurrence;

  /** The occurrence made ready to store: prepared, or, when that fails or the budget is spent, a fallback. */
  function prepareWithin(parsed: OccurrenceMessage, deadline: number): PreparedOccurrence {
    const started = now();
    if (started > deadline) {
      logger.warn('preparation budget spent; occurrence stored with the fallback fingerprint', {
        uuid: parsed.uuid,
        project_id: parsed.project_id,
      });
      return prepareFallbackOccurrence(parsed, 'the batch ran out of time to prepare it');
    }
    try {
      const occurrence = prepare(parsed);
      const elapsed = now() - started;
      if (elapsed > SLOW_OCCURRENCE_MS) {
        logger.warn('slow occurrence preparation', { uuid: parsed.uuid, milliseconds: Math.round(elapsed) });
      }
      return occurrence;
    } catch (error) {
      logger.error('occurrence could not be prepared; stored with the fallback fingerprint', {
        uuid: parsed.uuid,
        project_id: parsed.project_id,
        error: error as Error,
      });
      return prepareFallbackOccurrence(parsed, `preparing it failed: ${(error as Error).name}`);
    }
  }

  return async function processBatch(messages: readonly QueuedMessage[]): Promise<BatchResult> {
    const deadline = now() + budgetMs;
    const failed: string[] = [];
    const prepared: { messageId: string; occurrence: PreparedOccurrence }[] = [];
    let deploys = 0;
    // Only a batch that held deploy messages says how many (one region never sends any).
    const deployFigure = () => (deploys > 0 ? { deploys } : {});
    for (const message of messages) {
      let parsed: OccurrenceMessage;
      try {
        const json: unknown = JSON.parse(message.body);
        if (isDeployMessage(json)) {
          if (await recordDeploy(message.messageId, json)) deploys++;
          else failed.push(message.messageId);
          continue;
        }
        parsed = occurrenceMessageSchema.parse(json);
      } catch (error) {
        // Ingest validated it, so this is a poison message: fail it until it lands in the dead-letter queue.
        logger.error('unreadable occurrence message', {
          messageId: message.messageId,
          error: error as Error,
        });
        failed.push(message.messageId);
        continue;
      }
      try {
        prepared.push({ messageId: message.messageId, occurrence: prepareWithin(parsed, deadline) });
      } catch (error) {
        // Even the fallback failed: this occurrence alone comes back, the batch goes on.
        logger.error('occurrence could not be prepared, even as a fallback', {
          uuid: parsed.uuid,
          error: error as Error,
        });
        failed.push(message.messageId);
      }
    }
    if (prepared.length === 0)
      return { failedMessageIds: failed, stored: 0, duplicates: 0, ...deployFigure() };
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
      countStored(report.stored);
      logger.info('batch stored', {
        stored: report.stored,
        duplicates: report.duplicates,
        failed: report.failed,
        messages: messages.length,
      });
      return {
        failedMessageIds: failed,
        stored: report.stored,
        duplicates: report.duplicates,
        ...deployFigure(),
      };
    } catch (error) {
      // The payloads could not be encoded (their dictionary could not be read or written): retry all.
      logger.error('batch not stored; it will be delivered again', { error: error as Error });
      return {
        failedMessageIds: [...failed, ...prepared.map((entry) => entry.messageId)],
        stored: 0,
        duplicates: 0,
        ...deployFigure(),
      };
    }
  };

  /** One deploy message, recorded alone: false when it must come back (or, unreadable, go to the dead-letter queue). */
  async function recordDeploy(messageId: string, json: unknown): Promise<boolean> {
    const parsed = queuedDeployMessageSchema.safeParse(json);
    if (!parsed.success || !deps.deploys) {
      logger.error(
        parsed.success ? 'deploy message where no deploys are recorded' : 'unreadable deploy message',
        {
          messageId,
        },
      );
      return false;
    }
    try {
      await deps.deploys.record(parsed.data);
      return true;
    } catch (error) {
      logger.error('deploy not recorded; it will be delivered again', {
        messageId,
        project_id: parsed.data.project_id,
        error: error as Error,
      });
      return false;
    }
  }
}

/** A pipeline region's storing worker in several regions: what makes it store, forward or hold. */
export interface RegionalStoringOptions {
  /** This region. */
  self: string;
  home: HomeReader;
  forwarder: Forwarder;
}

/**
 * Stores while this region is home and active; forwards, like an edge, while another region is
 * home; holds (the messages wait in this queue by the forwarder's back-off) while a promotion toward
 * this region recounts what the old home stored, so nothing is stored here before that is done.
 * The forwarder of a pipeline region re-sends what must wait (`requeue`): no outage or promotion,
 * however long, spends the receives after which its queue's dead-letter queue takes a message.
 */
export function createRegionalStoringWorker(
  store: (messages: readonly QueuedMessage[]) => Promise<BatchResult>,
  options: RegionalStoringOptions,
) {
  return async function processBatch(messages: readonly ReceivedMessage[]): Promise<BatchResult> {
    const home = await options.home.current();
    const part = storingPartOf(home, options.self);
    if (part.part === 'store') return store(messages);
    const report =
      part.part === 'forward'
        ? await options.forwarder.forward(messages, part.to)
        : await options.forwarder.holdBack(messages);
    if (part.part === 'hold') {
      logger.info('promotion toward this region under way; batch held', { messages: messages.length });
    }
    return {
      failedMessageIds: report.failedMessageIds,
      stored: 0,
      duplicates: 0,
      forwarded: report.forwarded,
      ...(report.requeued !== undefined ? { requeued: report.requeued } : {}),
    };
  };
}
