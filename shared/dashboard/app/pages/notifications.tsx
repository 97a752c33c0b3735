// Notification rules through Rollbar's notifications API: list, create, edit, enable, disable,
// delete, send a test, and each rule's delivery log.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, CHANNELS, type DeliveryLogEntry, type Rule, TRIGGERS } from '../api';
import { useApp } from '../context';
import { dateTime, timeAgo } from '../format';

const EXAMPLE_CONFIG: Partial<Record<(typeof CHANNELS)[number], string>> = {
  webhook: '{ "url": "https://example.com/hook" }',
  slack: '{ "url": "https://hooks.slack.com/services/T000/B000/XXXX" }',
  email: '{ "to": ["oncall@example.com"] }',
  pagerduty: '{ "service_key": "…" }',
};

interface Draft {
  id?: number;
  channel: string;
  trigger: string;
  status: 'enabled' | 'disabled';
  filters: string;
  config: string;
}

const emptyDraft = (): Draft => ({
  channel: 'webhook',
  trigger: 'new_item',
  status: 'enabled',
  filters: '[{ "type": "environment", "operation": "eq", "value": "production" }]',
  config: EXAMPLE_CONFIG.webhook!,
});

const message = (error: unknown) =>
  error instanceof ApiError ? error.message : 'The API could not be reached.';

export function NotificationsPage() {
  const { api, canWrite } = useApp();
  const [rules, setRules] = useState<Rule[]>();
  const [problem, setProblem] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [draft, setDraft] = useState<Draft>();
  const [log, setLog] = useState<{ rule: Rule; entries: DeliveryLogEntry[] }>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    Promise.all(CHANNELS.map((channel) => api.get<Rule[]>(`/api/1/notifications/${channel}/rules`))).then(
      (lists) => setRules(lists.flat().sort((a, b) => a.id - b.id)),
      (error: unknown) => setProblem(message(error)),
    );
  }, [api, reload]);

  const rulePath = (rule: Pick<Rule, 'channel' | 'id'>) =>
    `/api/1/notifications/${rule.channel}/rule/${rule.id}`;

  async function act(work: () => Promise<string>) {
    setNotice(undefined);
    try {
      setNotice(await work());
      setReload((n) => n + 1);
    } catch (error) {
      setNotice(`Refused: ${message(error)}`);
    }
  }

  async function save(event: Event) {
    event.preventDefault();
    if (!draft) return;
    let filters: unknown;
    let config: unknown;
    try {
      filters = JSON.parse(draft.filters || '[]');
      config = JSON.parse(draft.config || '{}');
    } catch {
      setNotice('Filters and config are JSON: a list of filters, an object of settings.');
      return;
    }
    const rule = { trigger: draft.trigger, status: draft.status, filters, config };
    await act(async () => {
      if (draft.id === undefined) {
        const [created] = await api.send<Rule[]>('POST', `/api/1/notifications/${draft.channel}/rules`, [
          rule,
        ]);
        setDraft(undefined);
        const secret = created?.config.secret;
        return typeof secret === 'string' && !secret.includes('*')
          ? `Rule ${created!.id} created. Its signing secret, shown this once: ${secret}`
          : `Rule ${created?.id} created.`;
      }
      await api.send('PUT', rulePath({ channel: draft.channel, id: draft.id }), rule);
      setDraft(undefined);
      return `Rule ${draft.id} saved.`;
    });
  }

  const edit = (rule: Rule) =>
    setDraft({
      id: rule.id,
      channel: rule.channel,
      trigger: rule.trigger,
      status: rule.status,
      filters: JSON.stringify(rule.filters, null, 2),
      // Masked credentials are sent back masked: the API keeps the stored ones.
      config: JSON.stringify(rule.config, null, 2),
    });

  const showLog = async (rule: Rule) => {
    try {
      setLog({ rule, entries: await api.get<DeliveryLogEntry[]>(`${rulePath(rule)}/log`) });
    } catch (error) {
      setNotice(message(error));
    }
  };

  return (
    <main>
      <div class="page-head">
        <h1>Notifications</h1>
        {canWrite && !draft && (
          <button type="button" onClick={() => setDraft(emptyDraft())}>
            New rule
          </button>
        )}
      </div>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {draft && (
        <RuleForm draft={draft} onChange={setDraft} onSubmit={save} onCancel={() => setDraft(undefined)} />
      )}
      {!rules ? (
        <p class="muted">Loading…</p>
      ) : rules.length === 0 ? (
        <p class="empty">No rules yet.{canWrite ? '' : ' A write token creates them.'}</p>
      ) : (
        <div class="table-wrap">
          <table class="rules">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Channel</th>
                <th>Trigger</th>
                <th>Filters</th>
                <th>Status</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((rule) => (
                <tr key={rule.id} data-rule={rule.id}>
                  <td>{rule.id}</td>
                  <td>{rule.channel}</td>
                  <td>{rule.trigger}</td>
                  <td class="filters-cell">
                    {rule.filters.length === 0 ? 'all' : rule.filters.map(filterText).join(', ')}
                  </td>
                  <td>
                    <span class={`status status-${rule.status}`}>{rule.status}</span>
                  </td>
                  <td>
                    <div class="row-actions">
                      <button type="button" onClick={() => void showLog(rule)}>
                        Log
                      </button>
                      {canWrite && (
                        <>
                          <button
                            type="button"
                            onClick={() =>
                              void act(async () => {
                                const status = rule.status === 'enabled' ? 'disabled' : 'enabled';
                                await api.send('PUT', rulePath(rule), {
                                  trigger: rule.trigger,
                                  filters: rule.filters,
                                  config: rule.config,
                                  status,
                                });
                                return `Rule ${rule.id} ${status}.`;
                              })
                            }
                          >
                            {rule.status === 'enabled' ? 'Disable' : 'Enable'}
                          </button>
                          <button type="button" onClick={() => edit(rule)}>
                            Edit
                          </button>
                          <button
                            type="button"
                            onClick={() =>
                              void act(async () => {
                                await api.send('POST', `${rulePath(rule)}/test`);
                                return `A test of rule ${rule.id} is queued: its delivery log shows the attempt.`;
                              })
                            }
                          >
                            Send a test
                          </button>
                          <button
                            type="button"
                            class="danger"
                            onClick={() => {
                              if (!confirm(`Delete rule ${rule.id} (${rule.channel}, ${rule.trigger})?`))
                                return;
                              void act(async () => {
                                await api.send('DELETE', rulePath(rule));
                                return `Rule ${rule.id} deleted.`;
                              });
                            }}
                          >
                            Delete
                          </button>
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log && (
        <section aria-labelledby="log-title">
          <h2 id="log-title">
            Delivery log of rule {log.rule.id} ({log.rule.channel})
          </h2>
          {log.entries.length === 0 ? (
            <p class="muted">No delivery attempts in the last 30 days.</p>
          ) : (
            <div class="table-wrap">
              <table class="log">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Trigger</th>
                    <th>Attempt</th>
                    <th>Status</th>
                    <th>HTTP</th>
                    <th>Answer</th>
                  </tr>
                </thead>
                <tbody>
                  {log.entries.map((entry) => (
                    <tr key={`${entry.key}#${entry.attempt}`}>
                      <td title={dateTime(entry.time / 1000)}>{timeAgo(entry.time / 1000)}</td>
                      <td>{entry.trigger}</td>
                      <td>{entry.attempt}</td>
                      <td>
                        <span class={`status status-${entry.status}`}>{entry.status}</span>
                      </td>
                      <td>{entry.http_status ?? ''}</td>
                      <td class="response">{entry.response}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </main>
  );
}

function filterText(filter: Rule['filters'][number]): string {
  if (filter.type === 'rate') return `rate ≥ ${filter.count} per ${filter.period}s`;
  if (filter.type === 'path') return `${filter.path} ${filter.operation} ${filter.value ?? ''}`.trim();
  return `${filter.type} ${filter.operation} ${String(filter.value)}`;
}

function RuleForm({
  draft,
  onChange,
  onSubmit,
  onCancel,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
  onSubmit: (event: Event) => void;
  onCancel: () => void;
}) {
  return (
    <form class="card rule-form" onSubmit={onSubmit}>
      <h2>{draft.id === undefined ? 'New rule' : `Edit rule ${draft.id}`}</h2>
      <label>
        Channel
        <select
          value={draft.channel}
          disabled={draft.id !== undefined}
          onChange={(event) => {
            const channel = event.currentTarget.value as (typeof CHANNELS)[number];
            onChange({ ...draft, channel, config: EXAMPLE_CONFIG[channel] ?? '{}' });
          }}
        >
          {CHANNELS.map((channel) => (
            <option key={channel} value={channel}>
              {channel}
            </option>
          ))}
        </select>
      </label>
      <label>
        Trigger
        <select
          value={draft.trigger}
          onChange={(event) => onChange({ ...draft, trigger: event.currentTarget.value })}
        >
          {TRIGGERS.map((trigger) => (
            <option key={trigger} value={trigger}>
              {trigger}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select
          value={draft.status}
          onChange={(event) => onChange({ ...draft, status: event.currentTarget.value as Draft['status'] })}
        >
          <option value="enabled">enabled</option>
          <option value="disabled">disabled</option>
        </select>
      </label>
      <label class="wide">
        Filters (JSON list, Rollbar's filter objects)
        <textarea
          rows={4}
          spellcheck={false}
          value={draft.filters}
          onInput={(event) => onChange({ ...draft, filters: event.currentTarget.value })}
        />
      </label>
      <label class="wide">
        Config (JSON object: the channel's settings; masked credentials are kept as stored)
        <textarea
          rows={4}
          spellcheck={false}
          value={draft.config}
          onInput={(event) => onChange({ ...draft, config: event.currentTarget.value })}
        />
      </label>
      <div class="form-actions">
        <button type="submit">{draft.id === undefined ? 'Create rule' : 'Save rule'}</button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
