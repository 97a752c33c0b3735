// One item: its state and the changes a write token may make, its occurrences over time beside the
// deploys, its occurrences, and one occurrence in full.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Counts, type Deploy, type Instance, type Item, LEVELS } from '../api';
import { OccurrenceChart } from '../components/chart';
import { useApp } from '../context';
import { count, dateTime, timeAgo } from '../format';
import { useShortcuts } from '../keyboard';
import { navigate } from '../router';
import { Occurrence } from './occurrence';

const OCCURRENCES_PER_PAGE = 20;

export function ItemPage({ counter, occurrence }: { counter: number; occurrence: string | undefined }) {
  const { api, canWrite } = useApp();
  const [item, setItem] = useState<Item>();
  const [problem, setProblem] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [granularity, setGranularity] = useState<'hour' | 'day'>('hour');
  const [counts, setCounts] = useState<Partial<Record<'hour' | 'day', Counts>>>({});
  const [deploys, setDeploys] = useState<Deploy[]>([]);
  const [instances, setInstances] = useState<Instance[]>();
  const [page, setPage] = useState(1);
  const [version, setVersion] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setItem(undefined);
    setProblem(undefined);
    api
      .get<Item>(`/api/1/item_by_counter/${counter}`)
      .then(setItem, (error: unknown) =>
        setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.'),
      );
  }, [api, counter]);

  const itemId = item?.id;
  useEffect(() => {
    if (itemId === undefined) return;
    for (const unit of ['hour', 'day'] as const) {
      api
        .get<Counts>(`/api/1/item/${itemId}/counts`, { granularity: unit })
        .then((result) => setCounts((current) => ({ ...current, [unit]: result })))
        .catch(() => {});
    }
    api
      .get<{ deploys: Deploy[] }>('/api/1/deploys', { page: 1 })
      .then((result) => setDeploys(result.deploys))
      .catch(() => {});
  }, [api, itemId]);

  useEffect(() => {
    if (itemId === undefined) return;
    api
      .get<{ instances: Instance[] }>(`/api/1/item/${itemId}/instances`, { page })
      .then((result) => setInstances(result.instances))
      .catch((error: unknown) =>
        setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.'),
      );
  }, [api, itemId, page]);

  async function change(fields: Record<string, unknown>, done: string) {
    if (!item) return;
    if (!canWrite) {
      setNotice('This token may not change items: sign in with a token that has the write scope.');
      return;
    }
    setBusy(true);
    try {
      setItem(await api.send<Item>('PATCH', `/api/1/item/${item.id}`, fields));
      setNotice(done);
    } catch (error) {
      setNotice(error instanceof ApiError ? `Refused: ${error.message}` : 'The API could not be reached.');
    } finally {
      setBusy(false);
    }
  }

  const resolve = () =>
    change(
      { status: 'resolved', ...(version.trim() ? { resolved_in_version: version.trim() } : {}) },
      version.trim() ? `Resolved in version ${version.trim()}.` : 'Resolved.',
    );
  useShortcuts({ r: () => void resolve() });

  if (problem && !item) {
    return (
      <main>
        <p class="error" role="alert">
          {problem}
        </p>
        <a href="/items">Back to the items</a>
      </main>
    );
  }
  if (!item) return <main class="muted">Loading…</main>;

  const shownCounts = counts[granularity];
  const environmentDeploys = deploys.filter((deploy) => deploy.environment === item.environment);
  const selected = occurrence ?? instances?.[0]?.uuid;

  return (
    <main class="item-page">
      <p class="crumbs">
        <a href="/items">Items</a> / #{item.counter}
      </p>
      <h1 class="item-title">
        <span class="counter">#{item.counter}</span> {item.title}
      </h1>
      <dl class="facts">
        <div>
          <dt>Level</dt>
          <dd>
            <span class={`level level-${item.level}`}>{item.level}</span>
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <span class={`status status-${item.status}`} data-testid="item-status">
              {item.status}
            </span>
            {item.status === 'resolved' && item.resolved_in_version && (
              <span class="muted"> in version {item.resolved_in_version}</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{item.environment}</dd>
        </div>
        <div>
          <dt>Occurrences</dt>
          <dd data-testid="total-occurrences">{count(item.total_occurrences)}</dd>
        </div>
        <div>
          <dt>People affected</dt>
          <dd>{count(item.unique_people)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd title={dateTime(item.last_occurrence_timestamp)}>{timeAgo(item.last_occurrence_timestamp)}</dd>
        </div>
        <div>
          <dt>First seen</dt>
          <dd title={dateTime(item.first_occurrence_timestamp)}>
            {timeAgo(item.first_occurrence_timestamp)}
          </dd>
        </div>
        {item.last_code_version && (
          <div>
            <dt>Last version</dt>
            <dd>{item.last_code_version}</dd>
          </div>
        )}
      </dl>

      {canWrite ? (
        <section class="actions" aria-label="Change this item">
          {item.status !== 'resolved' && (
            <>
              <label>
                Resolved in version
                <input
                  value={version}
                  maxLength={40}
                  placeholder="optional"
                  onInput={(event) => setVersion(event.currentTarget.value)}
                />
              </label>
              <button type="button" disabled={busy} onClick={() => void resolve()}>
                Resolve
              </button>
            </>
          )}
          {item.status !== 'active' && (
            <button
              type="button"
              disabled={busy}
              onClick={() => void change({ status: 'active' }, 'Reopened.')}
            >
              Reopen
            </button>
          )}
          {item.status !== 'muted' && (
            <button type="button" disabled={busy} onClick={() => void change({ status: 'muted' }, 'Muted.')}>
              Mute
            </button>
          )}
          <label>
            Level
            <select
              value={item.level}
              disabled={busy}
              onChange={(event) =>
                void change(
                  { level: event.currentTarget.value },
                  `Level set to ${event.currentTarget.value}.`,
                )
              }
            >
              {LEVELS.map((level) => (
                <option key={level} value={level}>
                  {level}
                </option>
              ))}
            </select>
          </label>
        </section>
      ) : (
        <p class="muted read-only">
          Signed in with a read token: resolving, muting and levels need a write token.
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}

      <section aria-labelledby="over-time">
        <div class="section-head">
          <h2 id="over-time">Occurrences over time</h2>
          <fieldset class="tabs">
            <legend class="visually-hidden">Period</legend>
            <button
              type="button"
              aria-pressed={granularity === 'hour'}
              onClick={() => setGranularity('hour')}
            >
              24 hours
            </button>
            <button type="button" aria-pressed={granularity === 'day'} onClick={() => setGranularity('day')}>
              30 days
            </button>
          </fieldset>
        </div>
        {shownCounts ? (
          <OccurrenceChart counts={shownCounts} deploys={environmentDeploys} />
        ) : (
          <p class="muted">Loading…</p>
        )}
        {environmentDeploys.length > 0 && (
          <p class="muted deploy-legend">
            Deploys to {item.environment} (dashed lines):{' '}
            {environmentDeploys.slice(0, 5).map((deploy) => (
              <span key={deploy.id} class="deploy-tag" title={dateTime(deploy.start_time)}>
                {deploy.revision.slice(0, 12)} {timeAgo(deploy.start_time)}
              </span>
            ))}
          </p>
        )}
      </section>

      <section aria-labelledby="occurrences">
        <h2 id="occurrences">Occurrences</h2>
        {!instances ? (
          <p class="muted">Loading…</p>
        ) : (
          <ol class="occurrence-list">
            {instances.map((instance) => (
              <li key={instance.uuid} class={instance.uuid === selected ? 'selected' : ''}>
                <a href={`/items/${item.counter}?occurrence=${instance.uuid}`}>
                  <span title={dateTime(instance.timestamp)}>{timeAgo(instance.timestamp)}</span>{' '}
                  <code class="uuid">{instance.uuid.slice(0, 8)}</code>
                  {instance.version && <span class="muted"> v{instance.version}</span>}
                  {personLabel(instance) && <span class="muted"> · {personLabel(instance)}</span>}
                </a>
              </li>
            ))}
          </ol>
        )}
        <nav class="pager" aria-label="Occurrence pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Newer
          </button>
          <span>Page {page}</span>
          <button
            type="button"
            disabled={(instances?.length ?? 0) < OCCURRENCES_PER_PAGE}
            onClick={() => setPage(page + 1)}
          >
            Older
          </button>
        </nav>
      </section>

      {selected && (
        <Occurrence
          uuid={selected}
          key={selected}
          onMissing={() => navigate(`/items/${item.counter}`, { replace: true })}
        />
      )}
    </main>
  );
}

function personLabel(instance: Instance): string | undefined {
  const person = instance.data.person as { id?: unknown; username?: unknown; email?: unknown } | undefined;
  if (!person) return undefined;
  const label = person.username ?? person.email ?? person.id;
  return label === undefined || label === null ? undefined : String(label);
}
