// `faultline items search …`: a client of `GET /api/1/items?query=`, printing the items found as a
// table (or the API's JSON). Words of the query may start with `-` (negation): only the options below
// are options, so `faultline items search Error -status:resolved --level error` means what it says.
import { readFile } from 'node:fs/promises';
import { UsageError } from './errors';
import { LOCAL_STACK_FILE, LOCAL_TOKENS_FILE, type LocalStackDescription } from './local-stack-file';

/** The API refused the search (a 4xx, such as a query it cannot parse): its message, exit code 2. */
export class ItemsApiRefusal extends Error {
  override readonly name = 'ItemsApiRefusal';
}

/** The API failed or could not be reached: exit code 1. */
export class ItemsApiError extends Error {
  override readonly name = 'ItemsApiError';
}

export const ITEMS_USAGE = `  faultline items search <query…> [--status <status>] [--level <level>] [--environment <name>]
      [--framework <name>] [--page <n>] [--json]`;

export const ITEMS_HELP = `Item search (through the read API; a read token):
  <query…>                  Rollbar's syntax: words, "phrases", level:, status:, environment:, framework:,
                            host:, context:, file:, code_version:, fingerprint:, person:, username:, email:,
                            first_seen:>2026-11-01, last_seen:<…, #counter; a leading - negates a term
  --url <url>               the API (default: the running local stack's, from ${LOCAL_STACK_FILE})
  --token <token>           a read token (default: FAULTLINE_TOKEN, else the local stack's read token)
Example:
  faultline items search Error -status:resolved host:web --environment production`;

/** Options that take a value; everything else that is not a flag below is a word of the query. */
const VALUE_OPTIONS = ['status', 'level', 'environment', 'framework', 'page', 'url', 'token'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
const FLAGS = ['json', 'debug', 'help'] as const;
type Flag = (typeof FLAGS)[number];

export interface ItemsSearchArguments {
  query: string;
  options: Partial<Record<ValueOption, string>> & Partial<Record<Flag, boolean>>;
}

/** The arguments after `items search`: the query's words joined by spaces, and the options. */
export function itemsSearchArguments(argv: string[]): ItemsSearchArguments {
  const words: string[] = [];
  const options: ItemsSearchArguments['options'] = {};
  for (let at = 0; at < argv.length; at++) {
    const argument = argv[at]!;
    if (argument === '--') {
      words.push(...argv.slice(at + 1));
      break;
    }
    if (!argument.startsWith('--')) {
      words.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals === -1 ? undefined : equals);
    if ((FLAGS as readonly string[]).includes(name)) {
      if (equals !== -1) throw new UsageError(`--${name} takes no value`);
      options[name as Flag] = true;
      continue;
    }
    if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
      throw new UsageError(`unknown option --${name} (see faultline --help)`);
    }
    const value = equals === -1 ? argv[++at] : argument.slice(equals + 1);
    if (value === undefined || (equals === -1 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`);
    }
    options[name as ValueOption] = value;
  }
  if (options.page !== undefined && !/^[1-9]\d{0,5}$/.test(options.page)) {
    throw new UsageError(`--page takes a page number from 1, not ${options.page}`);
  }
  return { query: words.join(' '), options };
}

/** An item as `GET /api/1/items` answers it: the fields the table shows. */
export interface ItemShown {
  id: number;
  counter: number | null;
  title: string;
  level: string;
  status: string;
  environment: string;
  total_occurrences: number;
  last_occurrence_timestamp: number;
}

export interface ItemsPage {
  items: ItemShown[];
  page: number;
}

export interface ItemsApi {
  search(parameters: Record<string, string>): Promise<ItemsPage>;
}

/** The read API at `url` with `token` in Rollbar's header. */
export function itemsApi(url: string, token: string): ItemsApi {
  const base = url.replace(/\/+$/, '');
  return {
    async search(parameters) {
      const target = `${base}/api/1/items?${new URLSearchParams(parameters)}`;
      let response: Response;
      try {
        response = await fetch(target, { headers: { 'X-Rollbar-Access-Token': token } });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (error as Error).message;
        throw new ItemsApiError(`cannot reach the API at ${base} (${reason})`, { cause: error });
      }
      const text = await response.text();
      let answer: { err?: number; result?: ItemsPage; message?: string } | undefined;
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        answer = undefined;
      }
      if (response.ok && answer?.err === 0 && answer.result) return answer.result;
      const failure = `${answer?.message ?? (text.slice(0, 200) || response.statusText)} (HTTP ${response.status})`;
      throw response.status >= 400 && response.status < 500
        ? new ItemsApiRefusal(failure)
        : new ItemsApiError(failure);
    },
  };
}

async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** `--url` and `--token`, else the running local stack's URL and read token. */
export async function connectItems(
  options: ItemsSearchArguments['options'],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ItemsApi> {
  const url = options.url ?? (await readJsonFile<LocalStackDescription>(LOCAL_STACK_FILE))?.url;
  if (!url) throw new UsageError('no API URL: start the local stack (npm start) or pass --url');
  const token =
    options.token ??
    (env.FAULTLINE_TOKEN || undefined) ??
    (await readJsonFile<{ read?: string }>(LOCAL_TOKENS_FILE))?.read;
  if (!token)
    throw new UsageError('no access token: pass --token, set FAULTLINE_TOKEN, or start the local stack');
  return itemsApi(url, token);
}

/** How long ago, in the largest whole unit: `just now`, `42s ago`, `5m ago`, `3h ago`, `12d ago`. */
export function timeAgo(epochSeconds: number, nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000) - epochSeconds;
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** The items as a table: one line each, the title cut to what is left of `width` columns. */
export function itemsTable(items: ItemShown[], options: { nowMs: number; width: number }): string[] {
  const rows = items.map((item) => [
    item.counter === null ? '-' : `#${item.counter}`,
    item.level,
    item.status,
    String(item.total_occurrences),
    timeAgo(item.last_occurrence_timestamp, options.nowMs),
    // One line per item, whatever the title holds.
    item.title.replaceAll(/\s+/g, ' ').trim(),
  ]);
  const header = ['#', 'LEVEL', 'STATUS', 'OCCURRENCES', 'LAST SEEN', 'TITLE'];
  const widths = header
    .slice(0, -1)
    .map((name, column) => Math.max(name.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => {
    const fixed = cells
      .slice(0, -1)
      // Occurrences are numbers: right-aligned.
      .map((cell, column) => (column === 3 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ');
    const room = Math.max(10, options.width - fixed.length - 2);
    const title = cells.at(-1)!;
    const shown = [...title].length > room ? `${[...title].slice(0, room - 1).join('')}…` : title;
    return `${fixed}  ${shown}`;
  };
  return [line(header), ...rows.map(line)];
}

/**
 * Runs `items search …`: the arguments are checked before `connect` is called, so a usage error needs
 * no API. `print` receives each line of output, `warn` each note for stderr.
 */
export async function runItemsSearch(
  argv: string[],
  connect: (options: ItemsSearchArguments['options']) => Promise<ItemsApi>,
  io: { print(line: string): void; warn(line: string): void; width?: number; nowMs?: () => number },
): Promise<number> {
  const { query, options } = itemsSearchArguments(argv);
  if (query.trim() === '') {
    throw new UsageError(
      'usage: faultline items search <query…> [--status s] [--level l] [--page n] [--json] …',
    );
  }
  const parameters: Record<string, string> = { query };
  for (const name of ['status', 'level', 'environment', 'framework', 'page'] as const) {
    const value = options[name];
    if (value !== undefined) parameters[name] = value;
  }
  const found = await (await connect(options)).search(parameters);
  if (options.json) {
    io.print(JSON.stringify(found, null, 2));
    return 0;
  }
  if (found.items.length === 0) {
    io.warn(found.page > 1 ? `no items match on page ${found.page}` : 'no items match');
    return 0;
  }
  for (const line of itemsTable(found.items, { nowMs: io.nowMs?.() ?? Date.now(), width: io.width ?? 120 }))
    io.print(line);
  if (found.items.length === 100) io.warn(`more may match: --page ${found.page + 1}`);
  return 0;
}
