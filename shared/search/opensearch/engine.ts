// The OpenSearch search engine (`-c search=opensearch`): documents and facets as one OpenSearch
// document per item in `faultline-items`, routed by project id, written through the bulk API as
// partial upserts and searched with the query DSL of `./query`.

import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Client, errors } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';
import { ConfigurationError } from '#shared/config';
import { emptyFacets, FACET_NAMES, type Facets, type SearchDocument } from '#shared/search/document';
import type {
  CounterPage,
  SearchCandidate,
  SearchCandidates,
  SearchEngine,
  SearchEntry,
} from '#shared/search/engine';
import type { SearchQuery } from '#shared/search/query';
import { OPENSEARCH_ENDPOINT_VAR } from './domain';
import {
  candidatesRequest,
  itemOfCounterRequest,
  itemsByCounterRequest,
  projectDocumentsQuery,
} from './query';
import { ITEMS_INDEX, ITEMS_TEMPLATE, itemsIndexTemplate } from './template';

/** Update actions per `_bulk` request: 2 lines each, a few hundred bytes, well under a request's limit. */
export const BULK_ACTIONS_PER_REQUEST = 500;
/** Ids per `_mget` request. */
const IDS_PER_MGET = 500;

/** A write OpenSearch refused (a bulk item, or the whole request), after any retries. */
export class SearchIndexWriteError extends Error {
  override readonly name = 'SearchIndexWriteError';
}

/** OpenSearch answered a read or a template put with an error other than a missing index. */
export class SearchIndexReadError extends Error {
  override readonly name = 'SearchIndexReadError';
}

/** Where signing credentials come from (the AWS SDK's provider shape); tests pass fixed ones. */
export type CredentialsProvider = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}>;

export interface OpenSearchIndexOptions {
  /** The index (tests use their own). @default `faultline-items` */
  index?: string;
  /** Tries of a request, or of bulk items, that OpenSearch refused with 429. @default 6 */
  attempts?: number;
  /** The first back-off after a 429, doubled each time (with jitter). @default 100 ms */
  backOffMs?: number;
}

/**
 * A client for a domain's HTTPS endpoint (`search-….es.amazonaws.com`, with or without `https://`),
 * every request signed with SigV4 for the service `es` with the default credential chain (in Lambda,
 * the function's role).
 */
export function openSearchClient(
  endpoint: string,
  region: string,
  options: { credentials?: CredentialsProvider } = {},
): Client {
  // The signer refreshes credentials that carry an expiration (a role's) before they expire.
  const getCredentials: CredentialsProvider = options.credentials ?? defaultProvider();
  return new Client({
    ...AwsSigv4Signer({ region, service: 'es', getCredentials }),
    node: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`,
    // 502-504 and connection faults are retried by the client; 429s by the engine, with back-off.
    maxRetries: 2,
    requestTimeout: 10_000,
  });
}

/** A client of a cluster that takes unsigned requests (a local one with security disabled). */
export function unsignedOpenSearchClient(url: string): Client {
  return new Client({ node: url, maxRetries: 2, requestTimeout: 10_000 });
}

/** The engine from the variables the stack sets: OPENSEARCH_ENDPOINT and AWS_REGION. */
export function openSearchIndexFromEnv(env: NodeJS.ProcessEnv = process.env): OpenSearchIndex {
  const endpoint = env[OPENSEARCH_ENDPOINT_VAR];
  const region = env.AWS_REGION;
  if (!endpoint)
    throw new ConfigurationError(`${OPENSEARCH_ENDPOINT_VAR} is not set (the OpenSearch engine needs it)`);
  if (!region)
    throw new ConfigurationError('AWS_REGION is not set (the OpenSearch engine signs for a region)');
  return new OpenSearchIndex(openSearchClient(endpoint, region));
}

/** One bulk update action and its partial document. */
interface BulkUpdate {
  projectId: number;
  itemId: number;
  doc: Record<string, unknown>;
}

interface BulkItemResult {
  _id?: string;
  status: number;
  error?: { type?: string; reason?: string };
}

interface SearchHit {
  _source?: { item_id?: number; counter?: number; last_seen?: number; facets?: Partial<Facets> };
}

const isTooManyRequests = (error: unknown) =>
  error instanceof errors.ResponseError && error.statusCode === 429;

const isMissingIndex = (error: unknown) =>
  error instanceof errors.ResponseError &&
  error.statusCode === 404 &&
  (error.body as { error?: { type?: string } } | undefined)?.error?.type === 'index_not_found_exception';

/** What OpenSearch said, in one line. */
function describe(error: unknown): string {
  if (error instanceof errors.ResponseError) {
    const reason = (error.body as { error?: { type?: string; reason?: string } } | undefined)?.error;
    return `OpenSearch answered ${error.statusCode}${reason ? `: ${reason.type ?? ''} ${reason.reason ?? ''}`.trimEnd() : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function facetsOf(source: Partial<Facets> | undefined): Facets {
  const facets = emptyFacets();
  for (const name of FACET_NAMES) {
    const values = source?.[name];
    if (Array.isArray(values)) facets[name] = values.map(String);
  }
  return facets;
}

/** The facets as the index's `facets` object: each list whole (an update merges objects key by key and replaces arrays). */
const facetsDoc = (facets: Facets) => Object.fromEntries(FACET_NAMES.map((name) => [name, facets[name]]));

export class OpenSearchIndex implements SearchEngine {
  private readonly index: string;
  private readonly attempts: number;
  private readonly backOffMs: number;
  /** The template's put, once per container (and again after a failed one). */
  private templatePut: Promise<void> | undefined;

  constructor(
    private readonly client: Client,
    options: OpenSearchIndexOptions = {},
  ) {
    this.index = options.index ?? ITEMS_INDEX;
    this.attempts = options.attempts ?? 6;
    this.backOffMs = options.backOffMs ?? 100;
  }

  /** Each item's document and facets in one partial upsert: one bulk action per item. */
  async putEntries(entries: SearchEntry[]): Promise<void> {
    await this.bulkUpdate(
      entries.map(({ document, facets }) => ({
        projectId: document.project_id,
        itemId: document.item_id,
        doc: { ...document, facets: facetsDoc(facets) },
      })),
    );
  }

  /**
   * Each document as a partial upsert of its own fields: the facets, written by `putFacets`, stay as
   * they are, whichever of the two reaches a new item first.
   */
  async putDocuments(documents: SearchDocument[]): Promise<void> {
    await this.bulkUpdate(
      documents.map((document) => ({
        projectId: document.project_id,
        itemId: document.item_id,
        doc: { ...document },
      })),
    );
  }

  async putFacets(projectId: number, entries: Array<{ item_id: number; facets: Facets }>): Promise<void> {
    await this.bulkUpdate(
      entries.map(({ item_id, facets }) => ({
        projectId,
        itemId: item_id,
        doc: { facets: facetsDoc(facets) },
      })),
    );
  }

  async readFacets(projectId: number, itemIds: number[]): Promise<Map<number, Facets>> {
    const found = new Map<number, Facets>();
    const unique = [...new Set(itemIds)];
    for (let start = 0; start < unique.length; start += IDS_PER_MGET) {
      const ids = unique.slice(start, start + IDS_PER_MGET);
      const response = await this.send(() =>
        this.client.mget({
          index: this.index,
          _source_includes: ['facets'],
          body: { docs: ids.map((id) => ({ _id: String(id), routing: String(projectId) })) },
        }),
      ).catch((error: unknown) => {
        if (isMissingIndex(error)) return undefined;
        throw new SearchIndexReadError(`reading facets: ${describe(error)}`, { cause: error });
      });
      const docs = (response?.body.docs ?? []) as Array<{
        _id: string;
        found?: boolean;
        _source?: SearchHit['_source'];
      }>;
      for (const doc of docs) {
        if (doc.found) found.set(Number(doc._id), facetsOf(doc._source?.facets));
      }
    }
    return new Map(itemIds.map((itemId) => [itemId, found.get(itemId) ?? emptyFacets()]));
  }

  async candidates(
    projectId: number,
    query: SearchQuery,
    options: { limit: number },
  ): Promise<SearchCandidates> {
    const found = await this.hitsOf(
      projectId,
      candidatesRequest(projectId, query, options.limit),
      'searching',
    );
    const hits = found.map(
      (hit): SearchCandidate => ({
        item_id: Number(hit._source?.item_id),
        last_seen: Number(hit._source?.last_seen),
        facets: facetsOf(hit._source?.facets),
      }),
    );
    return { candidates: hits.slice(0, options.limit), more: hits.length > options.limit };
  }

  /** The listing's page: a search sorted by counter (the `counter` field is a long, sortable). */
  async itemsByCounter(projectId: number, options: { limit: number; below?: number }): Promise<CounterPage> {
    const hits = await this.hitsOf(projectId, itemsByCounterRequest(projectId, options), 'listing');
    const items = hits.map((hit) => ({
      item_id: Number(hit._source?.item_id),
      counter: Number(hit._source?.counter),
    }));
    return { items: items.slice(0, options.limit), more: items.length > options.limit };
  }

  async itemIdOfCounter(projectId: number, counter: number): Promise<number | undefined> {
    const [hit] = await this.hitsOf(projectId, itemOfCounterRequest(projectId, counter), 'finding a counter');
    return hit?._source?.item_id === undefined ? undefined : Number(hit._source.item_id);
  }

  /** A search's hits in the project's routing; none before the index's first write. */
  private async hitsOf(projectId: number, body: object, doing: string): Promise<SearchHit[]> {
    const response = await this.send(() =>
      this.client.search({ index: this.index, routing: String(projectId), body: body as never }),
    ).catch((error: unknown) => {
      if (isMissingIndex(error)) return undefined;
      throw new SearchIndexReadError(`${doing}: ${describe(error)}`, { cause: error });
    });
    return (response?.body.hits?.hits ?? []) as SearchHit[];
  }

  async countDocuments(projectId: number): Promise<number> {
    const response = await this.send(() =>
      this.client.count({
        index: this.index,
        routing: String(projectId),
        body: projectDocumentsQuery(projectId) as never,
      }),
    ).catch((error: unknown) => {
      if (isMissingIndex(error)) return undefined;
      throw new SearchIndexReadError(`counting: ${describe(error)}`, { cause: error });
    });
    return Number(response?.body.count ?? 0);
  }

  /** Every document of the index, all projects (`search status --domain`); 0 before the first write. */
  async countAllDocuments(): Promise<number> {
    // With a body, so it is a POST: the domain's policy admits `es:ESHttpPost` only.
    const response = await this.send(() =>
      this.client.count({ index: this.index, body: { query: { match_all: {} } } as never }),
    ).catch((error: unknown) => {
      if (isMissingIndex(error)) return undefined;
      throw new SearchIndexReadError(`counting: ${describe(error)}`, { cause: error });
    });
    return Number(response?.body.count ?? 0);
  }

  /** The index template, put once before this container's first write: putting it again is harmless. */
  ensureTemplate(): Promise<void> {
    this.templatePut ??= this.send(() =>
      this.client.indices.putIndexTemplate({
        name: this.index === ITEMS_INDEX ? ITEMS_TEMPLATE : this.index,
        body: { ...itemsIndexTemplate, index_patterns: [this.index] } as never,
      }),
    ).then(
      () => undefined,
      (error: unknown) => {
        this.templatePut = undefined;
        throw new SearchIndexWriteError(`putting the index template: ${describe(error)}`, { cause: error });
      },
    );
    return this.templatePut;
  }

  /**
   * Sends the updates in bulk requests; items refused with 429 (a full write queue) are sent again
   * with back-off, any other refused item fails the call, naming it.
   */
  private async bulkUpdate(updates: BulkUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.ensureTemplate();
    // The last update of an item wins, as if they were applied in order.
    const latest = [...new Map(updates.map((update) => [update.itemId, update])).values()];
    for (let start = 0; start < latest.length; start += BULK_ACTIONS_PER_REQUEST) {
      let pending = latest.slice(start, start + BULK_ACTIONS_PER_REQUEST);
      for (let attempt = 1; ; attempt++) {
        const body = pending.flatMap(({ projectId, itemId, doc }) => [
          { update: { _index: this.index, _id: String(itemId), routing: String(projectId) } },
          { doc, doc_as_upsert: true },
        ]);
        const response = await this.send(() => this.client.bulk({ body })).catch((error: unknown) => {
          throw new SearchIndexWriteError(`writing ${pending.length} documents: ${describe(error)}`, {
            cause: error,
          });
        });
        if (!response.body.errors) break;
        const results = (response.body.items as Array<Record<string, BulkItemResult>>).map(
          (item) => Object.values(item)[0],
        );
        const refused = pending
          .map((update, index) => ({ update, result: results[index] }))
          .filter(({ result }) => !result || result.status >= 300);
        const failed = refused.filter(({ result }) => result?.status !== 429);
        if (failed.length > 0) {
          const { update, result } = failed[0]!;
          throw new SearchIndexWriteError(
            `OpenSearch refused ${failed.length} of ${pending.length} documents; item ${update.itemId}: ` +
              `${result?.status ?? 'no answer'} ${result?.error?.type ?? ''} ${result?.error?.reason ?? ''}`.trimEnd(),
          );
        }
        if (attempt >= this.attempts) {
          throw new SearchIndexWriteError(
            `OpenSearch kept refusing ${refused.length} documents with 429 after ${attempt} tries`,
          );
        }
        pending = refused.map(({ update }) => update);
        await this.backOff(attempt);
      }
    }
  }

  /** A request, sent again with back-off while OpenSearch answers 429 (the client does not retry those). */
  private async send<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isTooManyRequests(error) || attempt >= this.attempts) throw error;
        await this.backOff(attempt);
      }
    }
  }

  private backOff(attempt: number): Promise<void> {
    const delay = Math.min(5_000, this.backOffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    return new Promise((resolve) => setTimeout(resolve, delay));
  }
}
