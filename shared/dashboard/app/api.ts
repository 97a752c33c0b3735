// The public API the dashboard calls (/api/1/…) and the resources it answers with: anything the
// dashboard does, a script with the same token can do.
import { requestHeaders, type Session } from './session';

export type Level = 'critical' | 'error' | 'warning' | 'info' | 'debug';
export const LEVELS: readonly Level[] = ['critical', 'error', 'warning', 'info', 'debug'];
export type ItemStatus = 'active' | 'resolved' | 'muted';
export const STATUSES: readonly ItemStatus[] = ['active', 'resolved', 'muted'];

export interface Item {
  id: number;
  counter: number;
  title: string;
  level: Level;
  status: ItemStatus;
  environment: string;
  platform: string | null;
  framework: string | null;
  language: string | null;
  total_occurrences: number;
  unique_people: number;
  first_occurrence_id: string;
  first_occurrence_timestamp: number;
  last_occurrence_id: string;
  last_occurrence_timestamp: number;
  last_activated_timestamp: number | null;
  reactivated_count: number;
  resolved_timestamp: number | null;
  resolved_in_version: string | null;
  last_code_version: string | null;
}

export interface Instance {
  id: string;
  uuid: string;
  item_id: number;
  timestamp: number;
  version: string | null;
  truncated: boolean;
  data: Record<string, unknown>;
}

export interface Deploy {
  id: number;
  environment: string;
  revision: string;
  local_username: string | null;
  rollbar_username: string | null;
  comment: string | null;
  status: string;
  start_time: number;
  finish_time: number | null;
}

export interface Counts {
  granularity: 'hour' | 'day';
  counts: Array<{ timestamp: number; count: number }>;
}

/** `GET /api/1/operations/metrics`: the installation's graphs, per region, over a window. */
export interface OperationsMetrics {
  hours: number;
  period_seconds: number;
  start: number;
  end: number;
  regions: Array<{
    region: string;
    role: string;
    /** CloudWatch would not answer for this region (its graphs are then empty). */
    error?: string;
    graphs: Array<{
      id: string;
      title: string;
      units: { left: string; right?: string };
      series: Array<{
        label: string;
        axis: 'left' | 'right';
        stat: string;
        timestamps: number[];
        values: number[];
      }>;
    }>;
  }>;
  metrics_requested: number;
  list_metrics_requests: number;
}

export interface RuleFilter {
  type: string;
  operation?: string;
  value?: unknown;
  path?: string;
  period?: number;
  count?: number;
}

export interface Rule {
  id: number;
  channel: string;
  trigger: string;
  status: 'enabled' | 'disabled';
  filters: RuleFilter[];
  config: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

export interface DeliveryLogEntry {
  /** Milliseconds since the epoch (the only one: every other time is in seconds). */
  time: number;
  key: string;
  trigger: string;
  item_id: number | null;
  attempt: number;
  status: string;
  http_status: number | null;
  response: string;
}

/** The channels the rules API serves, one listing each. */
export { CHANNELS } from '../../notifications/channel-names';

export const TRIGGERS = [
  'new_item',
  'reactivated_item',
  'exp_repeat_item',
  'resolved_item',
  'reopened_item',
  'deploy',
  'occurrence',
  'occurrence_rate',
  'daily_summary',
] as const;

/** A refusal or failure as the API words it (`{"err":1,"message":…}`), with its HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export function pathWith(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** Calls the API with the session's headers; an unknown or revoked token ends the session. */
export function createApi(session: Session, onTokenRefused: () => void): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...requestHeaders(session) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    const answer = (await response.json().catch(() => undefined)) as
      | { err: 0; result: T }
      | { err: 1; message: string }
      | undefined;
    if (response.ok && answer && answer.err === 0) return answer.result;
    const message =
      answer && answer.err === 1 ? answer.message : `${response.status} ${response.statusText || 'error'}`;
    if (response.status === 403 && message === 'invalid access token') onTokenRefused();
    throw new ApiError(response.status, message);
  }
  return {
    get: (path, query) => call('GET', pathWith(path, query)),
    send: (method, path, body) => call(method, path, body),
  };
}

/**
 * Checks a token as the sign-in page does: one read (the token must have the read scope), then a
 * change that cannot change anything (`PATCH /api/1/item/0 {}`): the API checks the write scope
 * before it reads the item id, so a 403 means read only and a 422 means the token may write.
 */
export async function checkToken(token: string): Promise<{ canWrite: boolean }> {
  const headers = requestHeaders({ token });
  const read = await fetch('/api/1/items?page=1', { headers, credentials: 'omit' });
  if (!read.ok) {
    const answer = (await read.json().catch(() => undefined)) as { message?: string } | undefined;
    throw new ApiError(read.status, answer?.message ?? `${read.status} ${read.statusText}`);
  }
  const probe = await fetch('/api/1/item/0', {
    method: 'PATCH',
    headers: { ...headers, 'content-type': 'application/json' },
    body: '{}',
    credentials: 'omit',
  });
  return { canWrite: probe.status !== 403 };
}
