// What search knows of an item, for every engine: its document (the item's own fields, as the items
// table holds them) and its facets (values its occurrences carried: hosts, contexts, files, code
// versions, people). Plain logic, no AWS.
import type { Level } from '#shared/domain/levels';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import { titleTokens } from './title-tokens';

/**
 * The index keeps an item's last occurrence time to this step (rounded down): a hot item rewrites
 * its document at most once per step instead of on every counted occurrence, which keeps search
 * from adding a write unit to each hot occurrence. Results are re-checked against the items table
 * and sorted there by the exact time.
 */
export const LAST_SEEN_STEP_SECONDS = 600;

/** An item's document: its own fields, the title tokenized. */
export interface SearchDocument {
  project_id: number;
  item_id: number;
  counter: number | null;
  /** The title, lower-cased (phrases match inside it). */
  title: string;
  /** `titleTokens(title)`: bare words match inside one of these. */
  tokens: string[];
  level: Level;
  status: ItemStatus;
  environment: string;
  framework: string | null;
  /** The item's grouping hash (`fingerprint:`). */
  fingerprint: string;
  /** The code version of its last occurrence, when one was given. */
  code_version: string | null;
  /** Epoch seconds. */
  first_seen: number;
  /** Epoch seconds; in an index, rounded down to `LAST_SEEN_STEP_SECONDS`. */
  last_seen: number;
}

/** Values an item's occurrences carried, newest first, each list bounded by `FACET_LIMITS`. */
export interface Facets {
  hosts: string[];
  contexts: string[];
  files: string[];
  code_versions: string[];
  person_ids: string[];
  usernames: string[];
  emails: string[];
}

export type FacetName = keyof Facets;

/**
 * Values kept per facet: an item's facets stay under one write unit (1 KB) in the usual case, so a
 * new value costs one write. An item seen on more hosts than this is found by its newest ones.
 */
export const FACET_LIMITS: Readonly<Record<FacetName, number>> = {
  hosts: 5,
  contexts: 5,
  files: 8,
  code_versions: 5,
  person_ids: 5,
  usernames: 5,
  emails: 5,
};
/** Characters kept of one facet value; a file keeps its end (the file name), others their start. */
export const MAX_FACET_VALUE_CHARS = 100;

export const FACET_NAMES = Object.keys(FACET_LIMITS) as FacetName[];

export function emptyFacets(): Facets {
  return { hosts: [], contexts: [], files: [], code_versions: [], person_ids: [], usernames: [], emails: [] };
}

/** The item's document; `step` rounds its last-seen time down (an index's documents use the step). */
export function documentOf(item: ItemRecord, options: { lastSeenStep?: number } = {}): SearchDocument {
  const step = options.lastSeenStep ?? 1;
  return {
    project_id: item.project_id,
    item_id: item.id,
    counter: item.counter,
    title: item.title.toLowerCase(),
    tokens: titleTokens(item.title),
    level: item.level,
    status: item.status,
    environment: item.environment,
    framework: item.framework,
    fingerprint: item.hash,
    code_version: item.last_code_version,
    first_seen: item.first_occurrence_timestamp,
    last_seen: Math.floor(item.last_occurrence_timestamp / step) * step,
  };
}

/** The same document, field for field (an indexer writes only a changed one). */
export function sameDocument(a: SearchDocument, b: SearchDocument): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `newer` values first, then the `older` ones not among them, each list cut to its limit: what an
 * item's facets become when an occurrence (or a few) brings values.
 */
export function mergeFacets(older: Facets, newer: Facets): Facets {
  const merged = emptyFacets();
  for (const name of FACET_NAMES) {
    merged[name] = [...new Set([...newer[name], ...older[name]])].slice(0, FACET_LIMITS[name]);
  }
  return merged;
}

export function sameFacets(a: Facets, b: Facets): boolean {
  return FACET_NAMES.every(
    (name) => a[name].length === b[name].length && a[name].every((value, index) => value === b[name][index]),
  );
}
