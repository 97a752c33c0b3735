// Second adapters of the sender's ports, in memory, for the engine's tests without an emulator: the
// delivery records keep the DynamoDB adapter's conditions (claimable statuses, live leases, settled
// only by the lease holder), the pace books slots one interval apart, and the clock only moves when
// a test (or a sleep) moves it.
import type { Channel, DeliveryContext, DeliveryOutcome } from '#shared/notifications/channel';
import type {
  ClaimRequest,
  ClaimResult,
  Clock,
  DeliveryRecordStatus,
  DeliveryRecords,
  DestinationPace,
  Settlement,
} from '#shared/notifications/delivery/sender';
import type { ChannelName, DeliveryLogEntry, Rule } from '#shared/notifications/model';

export interface MemoryRecord {
  status: DeliveryRecordStatus;
  lease?: string;
  leaseUntil?: number;
  attempts: number;
  httpStatus?: number | null;
  paceAt?: number;
  ruleId: number;
}

const CLAIMABLE: readonly DeliveryRecordStatus[] = ['queued', 'retrying', 'dead_lettered', 'sending'];

export class MemoryDeliveryRecords implements DeliveryRecords {
  readonly rows = new Map<string, MemoryRecord>();

  async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
    const row = this.rows.get(key);
    const claimable =
      !row ||
      (CLAIMABLE.includes(row.status) && (row.leaseUntil === undefined || row.leaseUntil < request.now));
    if (!claimable) return { claimed: false, status: row?.status };
    this.rows.set(key, {
      ...(row ?? { attempts: 0 }),
      status: 'sending',
      lease: request.lease,
      leaseUntil: request.leaseUntil,
      ruleId: request.ruleId,
    });
    return {
      claimed: true,
      attempts: row?.attempts ?? 0,
      ...(row?.paceAt === undefined ? {} : { paceSlotAt: row.paceAt }),
    };
  }

  async settle(key: string, lease: string, settlement: Settlement): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row || row.lease !== lease) return false;
    this.rows.set(key, {
      ruleId: row.ruleId,
      status: settlement.status,
      attempts: settlement.attempts,
      httpStatus: settlement.httpStatus,
      ...(settlement.paceSlotAt === undefined ? {} : { paceAt: settlement.paceSlotAt }),
    });
    return true;
  }
}

export class MemoryDestinationPace implements DestinationPace {
  readonly next = new Map<string, number>();
  readonly reservations: Array<{ destination: string; slot: number }> = [];

  async reserve(destination: string, intervalMs: number, now: number): Promise<number> {
    const slot = Math.max(now, this.next.get(destination) ?? now);
    this.next.set(destination, slot + intervalMs);
    this.reservations.push({ destination, slot });
    return slot;
  }
}

export class MemoryDeliveryLog {
  readonly entries: Array<DeliveryLogEntry & { rule_id: number }> = [];

  async append(ruleId: number, entry: DeliveryLogEntry): Promise<void> {
    this.entries.push({ ...entry, rule_id: ruleId });
  }
}

export class MemoryRules {
  readonly rules = new Map<string, Rule>();

  add(rule: Rule): Rule {
    this.rules.set(`${rule.project_id}/${rule.id}`, rule);
    return rule;
  }

  async get(projectId: number, ruleId: number): Promise<Rule | undefined> {
    return this.rules.get(`${projectId}/${ruleId}`);
  }
}

/** A clock that stands still until told, or until someone sleeps on it. */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(public time = Date.UTC(2026, 10, 30, 12)) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * A channel whose answers a test scripts (one per delivery, the last repeated), recording what it
 * was asked: stands for a vendor in the engine's tests, where only the outcome matters.
 */
export class ScriptedChannel implements Channel<ChannelName> {
  readonly calls: Array<DeliveryContext<unknown>> = [];

  constructor(
    readonly name: ChannelName,
    private readonly answers: Array<DeliveryOutcome | Error>,
    private readonly pace?: { perSecond: number },
  ) {}

  async deliver(context: DeliveryContext<never>): Promise<DeliveryOutcome> {
    this.calls.push(context);
    const answer = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)];
    if (!answer) throw new Error('no answer scripted');
    if (answer instanceof Error) throw answer;
    return answer;
  }

  rateLimit(config: never): { key: string; perSecond: number } | undefined {
    const url = (config as { url?: string }).url;
    return this.pace && url ? { key: url, perSecond: this.pace.perSecond } : undefined;
  }
}
