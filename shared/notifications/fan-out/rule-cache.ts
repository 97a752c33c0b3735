// A project's enabled rules, read once per project and kept for a few seconds per container: a rule
// saved, changed or disabled applies within RULE_CACHE_MS, and a busy stream costs one query per
// project per interval rather than one per record.
import type { Rule } from '../model';

export const RULE_CACHE_MS = 5_000;

export interface EnabledRules {
  enabledRules(projectId: number): Promise<Rule[]>;
}

export class RuleCache implements EnabledRules {
  private readonly entries = new Map<number, { at: number; rules: Promise<Rule[]> }>();

  constructor(
    private readonly list: (projectId: number) => Promise<Rule[]>,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  enabledRules(projectId: number): Promise<Rule[]> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.entries.get(projectId);
    if (cached && now - cached.at < (this.options.ttlMs ?? RULE_CACHE_MS)) return cached.rules;
    // Concurrent readers of the same project share one query; a failed one is not kept.
    const rules = this.list(projectId).then((all) => all.filter((rule) => rule.status === 'enabled'));
    this.entries.set(projectId, { at: now, rules });
    rules.catch(() => {
      if (this.entries.get(projectId)?.rules === rules) this.entries.delete(projectId);
    });
    return rules;
  }
}
