// The project's deploys, newest first, each with the items first seen after it in its environment.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Deploy, type Item } from '../api';
import { useApp } from '../context';
import { dateTime, timeAgo } from '../format';

const DEPLOYS_PER_PAGE = 20;

export function DeploysPage() {
  const { api } = useApp();
  const [page, setPage] = useState(1);
  const [deploys, setDeploys] = useState<Deploy[]>();
  const [items, setItems] = useState<Item[]>([]);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    api.get<{ deploys: Deploy[] }>('/api/1/deploys', { page }).then(
      (result) => setDeploys(result.deploys),
      (error: unknown) =>
        setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.'),
    );
  }, [api, page]);
  useEffect(() => {
    // The newest items (first page): enough to say what each recent deploy brought.
    api
      .get<{ items: Item[] }>('/api/1/items', { page: 1 })
      .then((result) => setItems(result.items))
      .catch(() => {});
  }, [api]);

  /** Items first seen after this deploy and before the next one to the same environment. */
  const newAfter = (deploy: Deploy, all: Deploy[]): Item[] => {
    const next = all
      .filter((other) => other.environment === deploy.environment && other.start_time > deploy.start_time)
      .reduce((earliest, other) => Math.min(earliest, other.start_time), Number.POSITIVE_INFINITY);
    return items.filter(
      (item) =>
        item.environment === deploy.environment &&
        item.first_occurrence_timestamp >= deploy.start_time &&
        item.first_occurrence_timestamp < next,
    );
  };

  return (
    <main>
      <h1>Deploys</h1>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {!deploys ? (
        <p class="muted">Loading…</p>
      ) : deploys.length === 0 ? (
        <p class="empty">
          No deploys recorded. CI records one with <code>POST /api/1/deploy/</code> (a write or
          post_server_item token).
        </p>
      ) : (
        <div class="table-wrap">
          <table class="deploys">
            <thead>
              <tr>
                <th>Deployed</th>
                <th>Environment</th>
                <th>Revision</th>
                <th>User</th>
                <th>Comment</th>
                <th>Status</th>
                <th>New items after it</th>
              </tr>
            </thead>
            <tbody>
              {deploys.map((deploy) => {
                const brought = newAfter(deploy, deploys);
                return (
                  <tr key={deploy.id}>
                    <td title={dateTime(deploy.start_time)}>{timeAgo(deploy.start_time)}</td>
                    <td>{deploy.environment}</td>
                    <td>
                      <code>{deploy.revision}</code>
                    </td>
                    <td>{deploy.rollbar_username ?? deploy.local_username ?? ''}</td>
                    <td>{deploy.comment ?? ''}</td>
                    <td>
                      <span class={`status status-${deploy.status}`}>{deploy.status}</span>
                    </td>
                    <td>
                      {brought.length === 0
                        ? '—'
                        : brought.map((item) => (
                            <a
                              key={item.id}
                              href={`/items/${item.counter}`}
                              class="deploy-item"
                              title={item.title}
                            >
                              #{item.counter}
                            </a>
                          ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          Newer
        </button>
        <span>Page {page}</span>
        <button
          type="button"
          disabled={(deploys?.length ?? 0) < DEPLOYS_PER_PAGE}
          onClick={() => setPage(page + 1)}
        >
          Older
        </button>
      </nav>
    </main>
  );
}
