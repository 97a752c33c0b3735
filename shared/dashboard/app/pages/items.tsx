// The project's items: search, filters, paging, a sparkline each; polled while open, new ones marked.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, type Counts, type Item, LEVELS, STATUSES } from '../api';
import { Sparkline } from '../components/sparkline';
import { useApp } from '../context';
import { count, dateTime, timeAgo } from '../format';
import { useShortcuts } from '../keyboard';
import { navigate } from '../router';

/** The API's page size for items: a shorter page is the last one. */
const PAGE_SIZE = 100;
const POLL_MS = 5_000;
/** Sparklines fetched at once: 100 items must not become 100 requests in flight. */
const SPARKLINE_CONCURRENCY = 4;

interface Filters {
  query: string;
  status: string;
  level: string;
  environment: string;
  page: number;
}

function filtersFromUrl(): Filters {
  const params = new URLSearchParams(location.search);
  const page = Number(params.get('page') ?? '1');
  return {
    query: params.get('query') ?? '',
    status: params.get('status') ?? '',
    level: params.get('level') ?? '',
    environment: params.get('environment') ?? '',
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

function urlOf(filters: Filters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value !== '' && !(name === 'page' && value === 1)) params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `/items?${search}` : '/items';
}

export function ItemsPage() {
  const { api, canWrite } = useApp();
  const [filters, setFilters] = useState(filtersFromUrl);
  const [typed, setTyped] = useState(filters.query);
  const [items, setItems] = useState<Item[]>();
  const [problem, setProblem] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [selected, setSelected] = useState(0);
  const [sparklines, setSparklines] = useState<ReadonlyMap<number, Counts>>(new Map());
  const [newIds, setNewIds] = useState<ReadonlySet<number>>(new Set());
  const known = useRef<Set<number> | undefined>(undefined);
  const fetchedAt = useRef(new Map<number, number>());
  const search = useRef<HTMLInputElement>(null);

  // Filters live in the URL (never the token): a view can be shared and survives a reload.
  useEffect(() => navigate(urlOf(filters), { replace: true }), [filters]);

  useEffect(() => {
    let stopped = false;
    known.current = undefined;
    setNewIds(new Set());
    const load = async () => {
      if (document.hidden) return;
      try {
        const result = await api.get<{ items: Item[] }>('/api/1/items', {
          query: filters.query.trim() || undefined,
          status: filters.status || undefined,
          level: filters.level || undefined,
          environment: filters.environment || undefined,
          page: filters.page,
        });
        if (stopped) return;
        setProblem(undefined);
        setItems(result.items);
        if (!known.current) known.current = new Set(result.items.map((item) => item.id));
        else {
          const arrived = result.items.filter((item) => !known.current!.has(item.id)).map((item) => item.id);
          if (arrived.length > 0) setNewIds((ids) => new Set([...ids, ...arrived]));
        }
      } catch (error) {
        if (!stopped) setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.');
      }
    };
    void load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, filters]);

  // Each sparkline again only when its item has a new last occurrence.
  useEffect(() => {
    if (!items) return;
    const stale = items.filter((item) => fetchedAt.current.get(item.id) !== item.last_occurrence_timestamp);
    let cancelled = false;
    const queue = [...stale];
    const worker = async () => {
      for (let item = queue.shift(); item && !cancelled; item = queue.shift()) {
        try {
          const counts = await api.get<Counts>(`/api/1/item/${item.id}/counts`, { granularity: 'hour' });
          fetchedAt.current.set(item.id, item.last_occurrence_timestamp);
          if (!cancelled) setSparklines((current) => new Map(current).set(item.id, counts));
        } catch {
          // A missing sparkline is drawn empty; the next poll tries again.
        }
      }
    };
    for (let i = 0; i < SPARKLINE_CONCURRENCY; i++) void worker();
    return () => {
      cancelled = true;
    };
  }, [api, items]);

  const environments = useMemo(
    () => [...new Set((items ?? []).map((item) => item.environment))].sort(),
    [items],
  );

  async function resolve(item: Item) {
    try {
      const updated = await api.send<Item>('PATCH', `/api/1/item/${item.id}`, { status: 'resolved' });
      setItems((current) => current?.map((entry) => (entry.id === updated.id ? updated : entry)));
      setNotice(`Resolved #${item.counter}.`);
    } catch (error) {
      setNotice(
        error instanceof ApiError
          ? `Not resolved: ${error.message}`
          : 'Not resolved: the API could not be reached.',
      );
    }
  }

  const list = items ?? [];
  useShortcuts({
    '/': () => search.current?.focus(),
    j: () => setSelected((index) => Math.min(index + 1, Math.max(0, list.length - 1))),
    k: () => setSelected((index) => Math.max(0, index - 1)),
    Enter: () => {
      const item = list[selected];
      if (item) navigate(`/items/${item.counter}`);
    },
    o: () => {
      const item = list[selected];
      if (item) navigate(`/items/${item.counter}`);
    },
    r: () => {
      const item = list[selected];
      if (!item) return;
      if (canWrite) void resolve(item);
      else setNotice('This token may not change items: sign in with a token that has the write scope.');
    },
  });
  useEffect(() => {
    document.querySelector('.item-row.selected')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const set = (change: Partial<Filters>) => {
    setSelected(0);
    setFilters((current) => ({ ...current, page: 1, ...change }));
  };

  return (
    <main>
      <div class="page-head">
        <h1>Items</h1>
        {newIds.size > 0 && (
          <button
            type="button"
            class="badge new-badge"
            onClick={() => setNewIds(new Set())}
            title="Mark as seen"
          >
            {newIds.size} new
          </button>
        )}
      </div>
      <form
        class="filters"
        aria-label="Search and filters"
        onSubmit={(event) => {
          event.preventDefault();
          set({ query: typed });
        }}
      >
        <div class="search">
          <label for="search" class="visually-hidden">
            Search items
          </label>
          <input
            id="search"
            ref={search}
            type="search"
            placeholder="Search items (press /)"
            value={typed}
            onInput={(event) => setTyped(event.currentTarget.value)}
            aria-describedby="search-hint"
          />
          <p id="search-hint" class="hint">
            Words match titles. Qualifiers: <code>level:error</code> <code>status:active</code>{' '}
            <code>environment:production</code> <code>file:app/</code> <code>host:web</code>{' '}
            <code>person:42</code> <code>email:ann@</code> <code>code_version:1.2</code>{' '}
            <code>first_seen:&gt;2026-11-01</code> <code>last_seen:&lt;2026-11-30</code> <code>#12</code>{' '}
            <code>"a phrase"</code> <code>-negated</code>
          </p>
        </div>
        <label>
          Status
          <select value={filters.status} onChange={(event) => set({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Level
          <select value={filters.level} onChange={(event) => set({ level: event.currentTarget.value })}>
            <option value="">any</option>
            {LEVELS.map((level) => (
              <option key={level} value={level}>
                {level}
              </option>
            ))}
          </select>
        </label>
        <label>
          Environment
          <input
            list="environments"
            value={filters.environment}
            placeholder="any"
            onChange={(event) => set({ environment: event.currentTarget.value.trim() })}
          />
          <datalist id="environments">
            {environments.map((environment) => (
              <option key={environment} value={environment} />
            ))}
          </datalist>
        </label>
        <button type="submit">Search</button>
      </form>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {!items ? (
        <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">
          {filters.page > 1
            ? 'No more items.'
            : 'No items match. Send one with a Rollbar SDK pointed at /api/1/.'}
        </p>
      ) : (
        <ol class="item-list" aria-label="Items">
          <li class="item-row item-head" aria-hidden="true">
            <span class="col-title">Item</span>
            <span class="col-level">Level</span>
            <span class="col-status">Status</span>
            <span class="col-env">Environment</span>
            <span class="col-total">Total</span>
            <span class="col-spark">Last 24 h</span>
            <span class="col-last">Last seen</span>
            <span class="col-first">First seen</span>
          </li>
          {items.map((item, index) => {
            const counts = sparklines.get(item.id);
            const day = counts?.counts.reduce((sum, bucket) => sum + bucket.count, 0);
            return (
              <li
                key={item.id}
                class={`item-row${index === selected ? ' selected' : ''}${newIds.has(item.id) ? ' is-new' : ''}`}
                data-counter={item.counter}
              >
                <span class="col-title">
                  <a href={`/items/${item.counter}`} class="item-link">
                    <span class="counter">#{item.counter}</span> {item.title}
                  </a>
                  {newIds.has(item.id) && <span class="badge new-badge">new</span>}
                </span>
                <span class="col-level">
                  <span class={`level level-${item.level}`}>{item.level}</span>
                </span>
                <span class="col-status">
                  <span class={`status status-${item.status}`}>{item.status}</span>
                </span>
                <span class="col-env">{item.environment}</span>
                <span class="col-total" title="Total occurrences">
                  {count(item.total_occurrences)}
                </span>
                <span class="col-spark">
                  <Sparkline counts={counts} />
                  <span class="day-count">{day === undefined ? '' : count(day)}</span>
                </span>
                <span class="col-last" title={dateTime(item.last_occurrence_timestamp)}>
                  {timeAgo(item.last_occurrence_timestamp)}
                </span>
                <span class="col-first" title={dateTime(item.first_occurrence_timestamp)}>
                  {timeAgo(item.first_occurrence_timestamp)}
                </span>
              </li>
            );
          })}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={filters.page <= 1}
          onClick={() => setFilters((f) => ({ ...f, page: f.page - 1 }))}
        >
          Previous
        </button>
        <span>Page {filters.page}</span>
        <button
          type="button"
          disabled={(items?.length ?? 0) < PAGE_SIZE}
          onClick={() => setFilters((f) => ({ ...f, page: f.page + 1 }))}
        >
          Next
        </button>
      </nav>
      <p class="hint keys">
        Keys: <kbd>/</kbd> search, <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open
        {canWrite ? (
          <>
            , <kbd>r</kbd> resolve
          </>
        ) : null}
        . Updates every {POLL_MS / 1000} seconds.
      </p>
    </main>
  );
}
