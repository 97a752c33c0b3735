// A local HTTP server that plays an OpenSearch cluster for the engine's tests: it checks each request
// as OpenSearch documents it (paths, the NDJSON bulk body ending in a newline and its content type,
// routing on an index that requires it, a strict mapping, optionally a SigV4 signature for `es`),
// keeps the documents, and answers in OpenSearch's shapes (bulk items, mget docs, hits, counts,
// `{"error":{type,reason},"status"}`). Searches filter by project id (and counter) and sort newest first
// or by counter: it does not evaluate the rest of the query DSL (the query builder is unit-tested).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenSearchRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  /** The answer's status. */
  status: number;
}

export interface StoredDocument {
  routing: string | undefined;
  source: Record<string, unknown>;
}

export interface FakeOpenSearch {
  /** `http://127.0.0.1:port` */
  url: string;
  requests: OpenSearchRequest[];
  templates: Map<string, Record<string, unknown>>;
  /** Index name → document id → document. */
  indices: Map<string, Map<string, StoredDocument>>;
  /** The next `count` requests whose path matches answer `status` (429: OpenSearch's rejection). */
  reject(options: { count: number; status: number; path?: RegExp }): void;
  /** In the next bulk request, these document ids are refused with `status` and not written. */
  rejectBulkItems(ids: string[], status: number): void;
  stop(): Promise<void>;
}

export interface FakeOpenSearchOptions {
  /** Refuse requests without a valid-looking SigV4 signature for `es` in this region (Amazon OpenSearch Service). */
  signedFor?: { region: string; accessKeyId: string };
}

interface Answer {
  status: number;
  body: unknown;
}

const error = (status: number, type: string, reason: string): Answer => ({
  status,
  body: { error: { root_cause: [{ type, reason }], type, reason }, status },
});

/** A request OpenSearch refuses before doing anything: thrown, answered by the server. */
class Refusal extends Error {
  constructor(readonly answer: Answer) {
    super(answer.status.toString());
  }
}

const notFoundIndex = (index: string) => error(404, 'index_not_found_exception', `no such index [${index}]`);

type Mapping = { properties?: Record<string, Mapping>; dynamic?: string; _routing?: { required?: boolean } };

/** The first field of `source` a strict mapping does not declare, or undefined. */
function undeclaredField(source: Record<string, unknown>, mapping: Mapping, prefix = ''): string | undefined {
  for (const [name, value] of Object.entries(source)) {
    const field = mapping.properties?.[name];
    if (!field) return `${prefix}${name}`;
    if (value && typeof value === 'object' && !Array.isArray(value) && field.properties) {
      const inner = undeclaredField(value as Record<string, unknown>, field, `${prefix}${name}.`);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** An update's `doc` merged into the source as OpenSearch does: objects key by key, anything else replaced. */
function merge(target: Record<string, unknown>, doc: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...target };
  for (const [key, value] of Object.entries(doc)) {
    const existing = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && existing && typeof existing === 'object'
        ? merge(existing as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return merged;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export async function startFakeOpenSearch(options: FakeOpenSearchOptions = {}): Promise<FakeOpenSearch> {
  const requests: OpenSearchRequest[] = [];
  const templates = new Map<string, Record<string, unknown>>();
  const indices = new Map<string, Map<string, StoredDocument>>();
  const mappingsOf = new Map<string, Mapping>();
  const rejections: Array<{ count: number; status: number; path?: RegExp }> = [];
  let bulkRejections: { ids: Set<string>; status: number } | undefined;

  function templateMappingFor(index: string): Mapping | undefined {
    for (const template of templates.values()) {
      const patterns = template.index_patterns as string[];
      if (patterns.includes(index)) return (template.template as { mappings?: Mapping }).mappings;
    }
    return undefined;
  }

  /** The index a write lands in, created (from a matching template) if absent. */
  function indexForWrite(index: string): Map<string, StoredDocument> {
    let documents = indices.get(index);
    if (!documents) {
      documents = new Map();
      indices.set(index, documents);
      mappingsOf.set(index, templateMappingFor(index) ?? {});
    }
    return documents;
  }

  function checkSignature(request: Omit<OpenSearchRequest, 'status'>): Answer | undefined {
    if (!options.signedFor) return undefined;
    const authorization = request.headers.authorization ?? '';
    const date = request.headers['x-amz-date'] ?? '';
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    const refused = (message: string): Answer => ({ status: 403, body: { message } });
    if (!match) return refused('Authorization header requires a SigV4 signature.');
    const [, accessKeyId, day, region, service, signedHeaders] = match;
    if (accessKeyId !== options.signedFor.accessKeyId)
      return refused('The security token included in the request is invalid.');
    if (service !== 'es') return refused(`Credential should be scoped to correct service: 'es'.`);
    if (region !== options.signedFor.region) return refused(`Credential should be scoped to a valid region.`);
    if (!/^\d{8}T\d{6}Z$/.test(date) || !date.startsWith(day!))
      return refused('X-Amz-Date is missing or does not match.');
    const signed = signedHeaders!.split(';');
    if (!signed.includes('host') || !signed.includes('x-amz-date')) {
      return refused('The request signature must sign host and x-amz-date.');
    }
    if (request.headers['x-amz-content-sha256'] !== sha256(request.body)) {
      return refused('The provided x-amz-content-sha256 header does not match the request body.');
    }
    return undefined;
  }

  function bulk(request: Omit<OpenSearchRequest, 'status'>): Answer {
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/(x-ndjson|vnd\.opensearch\+x-ndjson)/.test(type)) {
      return error(406, 'content_type_exception', `Content-Type header [${type}] is not supported`);
    }
    if (!request.body.endsWith('\n')) {
      return error(
        400,
        'illegal_argument_exception',
        'The bulk request must be terminated by a newline [\\n]',
      );
    }
    const lines = request.body.slice(0, -1).split('\n');
    const items: unknown[] = [];
    const rejecting = bulkRejections;
    bulkRejections = undefined;
    for (let line = 0; line < lines.length; line += 2) {
      let action: Record<string, { _index?: string; _id?: string; routing?: string }>;
      let payload: { doc?: Record<string, unknown>; doc_as_upsert?: boolean };
      try {
        action = JSON.parse(lines[line]!);
        payload = JSON.parse(lines[line + 1] ?? '');
      } catch {
        return error(400, 'x_content_parse_exception', `malformed bulk line ${line + 1}`);
      }
      const [name, meta] = Object.entries(action)[0] ?? [];
      if (name !== 'update' || !meta?._index || !meta._id) {
        return error(400, 'illegal_argument_exception', `Malformed action/metadata line [${line + 1}]`);
      }
      const item = (status: number, extra: Record<string, unknown>) =>
        items.push({ update: { _index: meta._index, _id: meta._id, status, ...extra } });
      if (rejecting?.ids.has(meta._id)) {
        item(rejecting.status, {
          error: {
            type: 'es_rejected_execution_exception',
            reason: 'rejected execution of coordinating operation',
          },
        });
        continue;
      }
      if (!payload.doc || payload.doc_as_upsert !== true) {
        item(400, {
          error: { type: 'document_missing_exception', reason: `[${meta._id}]: document missing` },
        });
        continue;
      }
      const documents = indexForWrite(meta._index);
      const mapping = mappingsOf.get(meta._index)!;
      if (mapping._routing?.required && meta.routing === undefined) {
        item(400, {
          error: {
            type: 'routing_missing_exception',
            reason: `routing is required for [${meta._index}]/[${meta._id}]`,
          },
        });
        continue;
      }
      const merged = merge(documents.get(meta._id)?.source ?? {}, payload.doc);
      const undeclared = mapping.dynamic === 'strict' ? undeclaredField(merged, mapping) : undefined;
      if (undeclared) {
        item(400, {
          error: {
            type: 'strict_dynamic_mapping_exception',
            reason: `mapping set to strict, dynamic introduction of [${undeclared}] within [_doc] is not allowed`,
          },
        });
        continue;
      }
      const existed = documents.has(meta._id);
      documents.set(meta._id, { routing: meta.routing, source: merged });
      item(existed ? 200 : 201, { result: existed ? 'updated' : 'created', _version: 1 });
    }
    const failed = items.some((item) => (item as { update: { status: number } }).update.status >= 300);
    return { status: 200, body: { took: 1, errors: failed, items } };
  }

  function projectHits(index: string, body: { query?: unknown }): StoredDocument[] | Answer {
    const documents = indices.get(index);
    if (!documents) return notFoundIndex(index);
    const filter = (
      body.query as {
        bool?: {
          filter?: Array<{
            term?: { project_id?: number; counter?: number };
            range?: { counter?: { gte?: number; lt?: number } };
          }>;
        };
      }
    )?.bool?.filter;
    const projectId = filter?.find((clause) => clause.term?.project_id !== undefined)?.term?.project_id;
    // Of the rest of the DSL, the counter's clauses (the item listing's): a term and a range.
    const counter = filter?.find((clause) => clause.term?.counter !== undefined)?.term?.counter;
    const range = filter?.find((clause) => clause.range?.counter !== undefined)?.range?.counter;
    return [...documents.values()].filter((document) => {
      if (projectId !== undefined && document.source.project_id !== projectId) return false;
      const held = document.source.counter;
      if (counter !== undefined && held !== counter) return false;
      if (range) {
        // A document without a counter (null or missing) is outside any range, as in OpenSearch.
        if (typeof held !== 'number') return false;
        if (range.gte !== undefined && held < range.gte) return false;
        if (range.lt !== undefined && held >= range.lt) return false;
      }
      return true;
    });
  }

  function answer(request: Omit<OpenSearchRequest, 'status'>): Answer {
    const signature = checkSignature(request);
    if (signature) return signature;
    const rejection = rejections.find((candidate) => !candidate.path || candidate.path.test(request.path));
    if (rejection) {
      rejection.count -= 1;
      if (rejection.count <= 0) rejections.splice(rejections.indexOf(rejection), 1);
      return rejection.status === 429
        ? error(429, 'es_rejected_execution_exception', 'rejected execution: the write queue is full')
        : error(rejection.status, 'internal_server_error', 'scripted failure');
    }
    const json = (): Record<string, unknown> => {
      // A request without a body (a `_count` of everything) carries no content type.
      if (request.body === '') return {};
      const type = request.headers['content-type'] ?? '';
      if (!/^application\/(json|vnd\.opensearch\+json)/.test(type)) {
        throw new Refusal(
          error(406, 'content_type_exception', `Content-Type header [${type}] is not supported`),
        );
      }
      try {
        return JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        throw new Refusal(error(400, 'parse_exception', 'request body is required and must be JSON'));
      }
    };

    const segments = request.path.split('/').filter(Boolean);
    if (
      (request.method === 'PUT' || request.method === 'POST') &&
      segments[0] === '_index_template' &&
      segments.length === 2
    ) {
      const body = json();
      if (!Array.isArray(body.index_patterns) || typeof body.template !== 'object') {
        return error(400, 'action_request_validation_exception', 'index patterns are missing');
      }
      templates.set(segments[1]!, body);
      return { status: 200, body: { acknowledged: true } };
    }
    if ((request.method === 'POST' || request.method === 'PUT') && segments.join('/') === '_bulk') {
      return bulk(request);
    }
    const [index, operation] = segments;
    if (!index || index.startsWith('_'))
      return error(400, 'invalid_index_name_exception', `no handler for ${request.path}`);
    if ((request.method === 'POST' || request.method === 'GET') && operation === '_mget') {
      const body = json();
      const documents = indices.get(index);
      if (!documents) return notFoundIndex(index);
      const wanted = body.docs as Array<{ _id: string; routing?: string }>;
      if (!Array.isArray(wanted))
        return error(400, 'action_request_validation_exception', 'no documents to get');
      const includes = request.query.get('_source_includes')?.split(',');
      const docs = [];
      for (const doc of wanted) {
        if (mappingsOf.get(index)?._routing?.required && doc.routing === undefined) {
          return error(400, 'routing_missing_exception', `routing is required for [${index}]/[${doc._id}]`);
        }
        const stored = documents.get(doc._id);
        if (!stored) {
          docs.push({ _index: index, _id: doc._id, found: false });
          continue;
        }
        const source = includes
          ? Object.fromEntries(Object.entries(stored.source).filter(([key]) => includes.includes(key)))
          : stored.source;
        docs.push({
          _index: index,
          _id: doc._id,
          _version: 1,
          _routing: stored.routing,
          found: true,
          _source: source,
        });
      }
      return { status: 200, body: { docs } };
    }
    if ((request.method === 'POST' || request.method === 'GET') && operation === '_search') {
      const body = json();
      const hits = projectHits(index, body);
      if (!Array.isArray(hits)) return hits;
      // Newest first by last-seen, or by counter when the request sorts by it (the listing).
      const byCounter =
        Array.isArray(body.sort) &&
        Object.keys((body.sort as Array<Record<string, unknown>>)[0] ?? {})[0] === 'counter';
      const sorted = hits.sort(
        (a, b) =>
          (byCounter
            ? Number(b.source.counter) - Number(a.source.counter)
            : Number(b.source.last_seen) - Number(a.source.last_seen)) ||
          Number(b.source.item_id) - Number(a.source.item_id),
      );
      const size = typeof body.size === 'number' ? body.size : 10;
      const fields = Array.isArray(body._source) ? (body._source as string[]) : undefined;
      return {
        status: 200,
        body: {
          took: 1,
          timed_out: false,
          _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
          hits: {
            max_score: null,
            hits: sorted.slice(0, size).map((document) => ({
              _index: index,
              _id: String(document.source.item_id),
              _score: null,
              _routing: document.routing,
              _source: fields
                ? Object.fromEntries(Object.entries(document.source).filter(([key]) => fields.includes(key)))
                : document.source,
              sort: [Number(document.source.last_seen) * 1000, document.source.item_id],
            })),
          },
        },
      };
    }
    if ((request.method === 'POST' || request.method === 'GET') && operation === '_count') {
      const body = json();
      const hits = projectHits(index, body);
      if (!Array.isArray(hits)) return hits;
      return {
        status: 200,
        body: { count: hits.length, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } },
      };
    }
    return error(
      405,
      'method_not_allowed',
      `Incorrect HTTP method for uri [${request.path}] and method [${request.method}]`,
    );
  }

  const server = createServer(async (incoming, outgoing) => {
    const request = await readRequest(incoming);
    let answered: Answer;
    try {
      answered = answer(request);
    } catch (refusal) {
      if (!(refusal instanceof Refusal)) throw refusal;
      answered = refusal.answer;
    }
    const { status, body } = answered;
    requests.push({ ...request, status });
    outgoing.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    outgoing.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    templates,
    indices,
    reject: (rejection) => rejections.push({ ...rejection }),
    rejectBulkItems: (ids, status) => {
      bulkRejections = { ids: new Set(ids), status };
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((failure) => (failure ? reject(failure) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readRequest(incoming: IncomingMessage): Promise<Omit<OpenSearchRequest, 'status'>> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const url = new URL(incoming.url ?? '/', 'http://opensearch.invalid');
  return {
    method: incoming.method ?? '',
    path: url.pathname,
    query: url.searchParams,
    headers: Object.fromEntries(
      Object.entries(incoming.headers).map(([name, value]) => [
        name.toLowerCase(),
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    ),
    body: Buffer.concat(chunks).toString('utf8'),
  };
}
