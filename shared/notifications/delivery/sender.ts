// The sender's engine: delivers one queued (event, rule) through its channel at most once as far as
// the receiver can tell, at the destination's pace, and says whether the queue message is done or
// when it should come back. It owns its ports (delivery records, destination pace) and has no AWS
// import; shared/store/ holds their DynamoDB adapters, and ./service.ts plays it on an SQS batch.
import { createHash, randomUUID } from 'node:crypto';
import { countDelivery, logger as sharedLogger } from '#shared/observability';
import type {
  Channel,
  ChannelLinks,
  DeliveryContext,
  DeliveryOutcome,
  EmailSender,
  OutboundHttp,
} from '../channel';
import { channelConfigs } from '../channel-configs';
import { excerpt } from '../channels/outcome';
import type { ChannelName, DeliveryLogEntry, DeliveryMessage, Rule } from '../model';
import { retryDelaySeconds } from './backoff';
import { redactCredentials } from './redaction';

/** A settle is tried this many times (0.1 s, 0.4 s, 1.6 s apart) before the batch gives up on it. */
const SETTLE_TRIES = 4;

/**
 * A delivery record's status. `queued` (released to wait for its pace slot; the fan-out puts no
 * record, the first claim makes it),
 * `retrying` and `dead_lettered` may be claimed; `sending` may be claimed once its lease has expired
 * (its sender died); `sent`, `failed` and `skipped` are final.
 */
export type DeliveryRecordStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'skipped'
  | 'retrying'
  | 'dead_lettered';

export interface ClaimRequest {
  ruleId: number;
  /** This sender's token: only its holder settles the claim. */
  lease: string;
  now: number;
  /** Milliseconds since the epoch after which another sender may take the delivery over. */
  leaseUntil: number;
  /** Seconds since the epoch (DynamoDB TTL): when the record may be forgotten. */
  expiresAt: number;
}

export type ClaimResult =
  | {
      claimed: true;
      /** Attempts made before this one (posts that got an answer or failed). */
      attempts: number;
      /** The pace slot reserved by an earlier receive that was deferred to it. */
      paceSlotAt?: number;
    }
  | { claimed: false; status: DeliveryRecordStatus | undefined };

export interface Settlement {
  status: Exclude<DeliveryRecordStatus, 'sending'>;
  attempts: number;
  httpStatus: number | null;
  now: number;
  /** Kept while the delivery waits for its pace slot (status `queued`). */
  paceSlotAt?: number;
}

/** The delivery records (one per delivery key): the claim before a post and its settlement after. */
export interface DeliveryRecords {
  /**
   * Sets `sending` with a lease if the record is absent, claimable, or leased by a sender whose lease
   * has expired; otherwise changes nothing and says what the record holds.
   */
  claim(key: string, request: ClaimRequest): Promise<ClaimResult>;
  /** Settles the claim and releases the lease; false when the lease was lost to another sender. */
  settle(key: string, lease: string, settlement: Settlement): Promise<boolean>;
}

/** Per-destination pace shared by every sender: the next instant a destination may be posted to. */
export interface DestinationPace {
  /** Reserves the destination's next slot, `intervalMs` after the previous one; answers its time (ms). */
  reserve(destination: string, intervalMs: number, now: number): Promise<number>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

type LogWriter = Pick<typeof sharedLogger, 'info' | 'warn' | 'error'>;

export interface SenderOptions {
  rules: { get(projectId: number, ruleId: number): Promise<Rule | undefined> };
  records: DeliveryRecords;
  log: { append(ruleId: number, entry: DeliveryLogEntry): Promise<void> };
  pace: DestinationPace;
  channels: { [N in ChannelName]?: Channel<N> };
  http: OutboundHttp;
  email: EmailSender;
  links: ChannelLinks;
  /** Links in messages point here. */
  /** Where links point; a string, or read per delivery (the local stack learns its URL after loading handlers). */
  publicUrl: string | (() => string);
  /** How long a claim holds: the function's timeout, after which Lambda has stopped the sender. */
  leaseMs: number;
  /** The queue's maxReceiveCount: on that receive a message not acked goes to the dead-letter queue. */
  maxReceives: number;
  /** A pace slot nearer than this is waited for in process; a later one defers the message. */
  maxPaceWaitMs?: number;
  /** How long delivery records are kept (TTL). */
  recordDays?: number;
  clock?: Clock;
  random?: () => number;
  newLease?: () => string;
  logger?: LogWriter;
}

/** What becomes of the queue message: deleted, or returned (after so many seconds; undefined: the queue's own timeout). */
export type DeliveryDecision = { ack: true } | { ack: false; visibleAfterSeconds: number | undefined };

export interface Sender {
  deliver(message: DeliveryMessage, receipt: { receiveCount: number }): Promise<DeliveryDecision>;
}

/** A channel of any name, its config already read with its own schema. */
interface AnyChannel {
  deliver(context: DeliveryContext<Record<string, unknown>>): Promise<DeliveryOutcome>;
  rateLimit(config: Record<string, unknown>): { key: string; perSecond: number } | undefined;
}

export const DEFAULT_MAX_PACE_WAIT_MS = 3_000;
export const DEFAULT_RECORD_DAYS = 7;
/**
 * The pace must hold at the vendor, not at the booking. A slot is booked a little ahead (the
 * booking's round trip is over by then, so a free destination's first post leaves at its slot, not
 * a round trip late), and slots are 10% further apart than the vendor's pace, for the varying time
 * a post takes to reach it.
 */
export const PACE_LEAD_MS = 250;
export const PACE_MARGIN = 1.1;

export const DEAD_LETTER_NOTE = 'moved to the dead-letter queue';

/** The pace row's key: a hash, because a destination's key is often a credential (a webhook URL). */
export function destinationOf(channel: ChannelName, key: string): string {
  return createHash('sha256').update(`${channel}\n${key}`).digest('hex').slice(0, 40);
}

export function createSender(options: SenderOptions): Sender {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const newLease = options.newLease ?? randomUUID;
  const logger = options.logger ?? sharedLogger;
  const maxPaceWaitMs = options.maxPaceWaitMs ?? DEFAULT_MAX_PACE_WAIT_MS;
  const recordSeconds = (options.recordDays ?? DEFAULT_RECORD_DAYS) * 86_400;

  return {
    async deliver(message, { receiveCount }) {
      const lastReceive = receiveCount >= options.maxReceives;
      const startedAt = clock.now();
      const lease = newLease();
      const what = describe(message);

      const claim = await options.records.claim(message.key, {
        ruleId: message.rule_id,
        lease,
        now: startedAt,
        leaseUntil: startedAt + options.leaseMs,
        expiresAt: Math.floor(startedAt / 1000) + recordSeconds,
      });
      if (!claim.claimed) {
        // Sent, failed or skipped already, or another sender holds it and will settle it.
        logger.info(`delivery already ${claim.status ?? 'settled'}: ${what}`, { key: message.key });
        return { ack: true };
      }
      const attempt = claim.attempts + 1;

      const settle = async (
        settlement: Omit<Settlement, 'now' | 'attempts'> & { attempts?: number },
      ): Promise<void> => {
        // Tried again on a throttle or a failure: after a post, an unsettled record would let the
        // message, back after the queue's timeout, post a second time.
        let kept = false;
        for (let tries = 1; ; tries++) {
          try {
            kept = await options.records.settle(message.key, lease, {
              attempts: attempt,
              ...settlement,
              now: clock.now(),
            });
            break;
          } catch (error) {
            if (tries >= SETTLE_TRIES) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (tries - 1)));
          }
        }
        if (!kept) {
          logger.warn(`delivery outlived its lease: ${what}`, { key: message.key, attempt });
        }
      };
      const record = async (
        rule: Rule,
        status: DeliveryLogEntry['status'],
        httpStatus: number | null,
        response: string,
      ): Promise<void> =>
        options.log.append(rule.id, {
          time: clock.now(),
          key: message.key,
          event_id: message.event.id,
          trigger: message.event.trigger,
          item_id: message.event.item?.id ?? null,
          attempt,
          status,
          http_status: httpStatus,
          response: excerpt(redactCredentials(response, rule)),
        });

      const rule = await options.rules.get(message.project_id, message.rule_id);
      const gone = !rule
        ? 'the rule was deleted'
        : rule.status !== 'enabled'
          ? 'the rule was disabled'
          : rule.channel !== message.channel
            ? `the rule is a ${rule.channel} rule now`
            : undefined;
      if (!rule || gone) {
        const reason = gone ?? 'the rule was deleted';
        await settle({ status: 'skipped', attempts: claim.attempts, httpStatus: null });
        // A deleted rule's log is read by nobody: only a disabled rule's gets the line.
        if (rule) await record(rule, 'skipped', null, reason);
        logger.info(`delivery skipped: ${what} (${reason})`, { key: message.key });
        return { ack: true };
      }

      const channel = options.channels[rule.channel] as AnyChannel | undefined;
      // Read again with the channel's schema: its defaults (a vendor's base URL) apply, and a config
      // stored by an older version that no longer reads is a final failure rather than a crash.
      const config = channelConfigs[rule.channel].schema.safeParse(rule.config);
      // The rules API and the fan-out keep each channel to its triggers; a message that says
      // otherwise (a daily summary to Slack) is refused here once, not by every channel.
      const takes = (channelConfigs[rule.channel].triggers as readonly string[]).includes(
        message.event.trigger,
      );
      if (!channel || !config.success || !takes) {
        const reason = !channel
          ? `the ${rule.channel} channel is not built into this sender`
          : !takes
            ? `${rule.channel} rules do not take ${message.event.trigger} events`
            : `the rule's config is not valid: ${config.error?.issues
                .map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`)
                .join('; ')}`;
        await settle({ status: 'failed', httpStatus: null });
        await record(rule, 'failed', null, reason);
        logger.error(`delivery failed: ${what} (${redactCredentials(reason, rule)})`, { key: message.key });
        countDelivery(rule.channel, 'failed');
        return { ack: true };
      }
      const configured: Rule = { ...rule, config: config.data as Record<string, unknown> };

      const limit = channel.rateLimit(configured.config);
      if (limit) {
        const slot =
          claim.paceSlotAt ??
          (await options.pace.reserve(
            destinationOf(rule.channel, limit.key),
            Math.ceil((1000 / limit.perSecond) * PACE_MARGIN),
            clock.now() + PACE_LEAD_MS,
          ));
        const wait = slot - clock.now();
        if (wait > maxPaceWaitMs && !lastReceive) {
          // Too far to wait here: the message comes back at its slot, which stays reserved for it.
          await settle({ status: 'queued', attempts: claim.attempts, httpStatus: null, paceSlotAt: slot });
          const seconds = Math.ceil(wait / 1000);
          logger.info(`delivery paced, back in ${seconds} s: ${what}`, { key: message.key });
          return { ack: false, visibleAfterSeconds: seconds };
        }
        // On the last receive a deferral would send it to the dead-letter queue: post after at most the usual wait.
        if (wait > 0) await clock.sleep(Math.min(wait, maxPaceWaitMs));
      }

      let outcome: DeliveryOutcome;
      try {
        outcome = await channel.deliver({
          rule: configured,
          event: message.event,
          deliveryKey: message.key,
          attempt,
          http: options.http,
          email: options.email,
          links: options.links,
          publicUrl: typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl,
          now: clock.now(),
        });
      } catch (error) {
        // A bug, not the vendor: the message comes back after the queue's timeout, and after its
        // last receive goes straight to the dead-letter queue for someone to read.
        const name = error instanceof Error ? error.name : 'Error';
        const detail = redactCredentials(
          error instanceof Error ? (error.stack ?? error.message) : String(error),
          rule,
        );
        await settle({ status: lastReceive ? 'dead_lettered' : 'retrying', httpStatus: null });
        await record(
          rule,
          lastReceive ? 'failed' : 'retrying',
          null,
          `${name} in the sender${lastReceive ? `; ${DEAD_LETTER_NOTE}` : ''}`,
        );
        logger.error(`delivery error: ${what}`, { key: message.key, attempt, error: detail });
        countDelivery(rule.channel, lastReceive ? 'dead_lettered' : 'retrying');
        return { ack: false, visibleAfterSeconds: lastReceive ? 0 : undefined };
      }

      const answer = outcome.httpStatus ?? redactCredentials(outcome.response, rule);
      switch (outcome.status) {
        case 'sent':
          await settle({ status: 'sent', httpStatus: outcome.httpStatus });
          await record(rule, 'sent', outcome.httpStatus, outcome.response);
          logger.info(`delivery sent: ${what} → ${answer}`, { attempt });
          countDelivery(rule.channel, 'sent');
          return { ack: true };
        case 'skipped':
          await settle({ status: 'skipped', httpStatus: null });
          await record(rule, 'skipped', null, outcome.response);
          logger.info(`delivery skipped: ${what} (${redactCredentials(outcome.response, rule)})`, {
            attempt,
          });
          countDelivery(rule.channel, 'skipped');
          return { ack: true };
        case 'failed': {
          const status = outcome.refused ? 'refused' : 'failed';
          await settle({ status: 'failed', httpStatus: outcome.httpStatus });
          await record(rule, status, outcome.httpStatus, outcome.response);
          logger.warn(`delivery ${status}: ${what} → ${answer}`, { attempt });
          countDelivery(rule.channel, status);
          return { ack: true };
        }
        case 'retry': {
          if (lastReceive) {
            // Not acked on its last receive: SQS moves it to the dead-letter queue, from where a
            // redrive delivers it again (the record stays claimable).
            await settle({ status: 'dead_lettered', httpStatus: outcome.httpStatus });
            await record(rule, 'failed', outcome.httpStatus, `${outcome.response} (${DEAD_LETTER_NOTE})`);
            logger.warn(`delivery failed, ${DEAD_LETTER_NOTE}: ${what} → ${answer}`, { attempt });
            countDelivery(rule.channel, 'dead_lettered');
            return { ack: false, visibleAfterSeconds: 0 };
          }
          const seconds = retryDelaySeconds({
            attempt,
            retryAfterMs: outcome.retryAfterMs,
            elapsedSeconds: (clock.now() - startedAt) / 1000,
            random,
          });
          await settle({ status: 'retrying', httpStatus: outcome.httpStatus });
          await record(rule, 'retrying', outcome.httpStatus, outcome.response);
          logger.info(`delivery retrying in ${seconds} s: ${what} → ${answer}`, { attempt });
          countDelivery(rule.channel, 'retrying');
          return { ack: false, visibleAfterSeconds: seconds };
        }
      }
    },
  };
}

/** `rule 3 (slack) new_item #12`: the rule and what happened, never the destination (often a credential). */
function describe(message: DeliveryMessage): string {
  const { event } = message;
  const subject = event.item
    ? ` #${event.item.counter}`
    : event.deploy
      ? ` deploy ${event.deploy.id}`
      : event.summary
        ? ` ${event.summary.day}`
        : '';
  return `rule ${message.rule_id} (${message.channel}) ${event.sample ? 'sample ' : ''}${event.trigger}${subject}`;
}
