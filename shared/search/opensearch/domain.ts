// What the OpenSearch engine needs of an OpenSearch Service domain: the variables that name it to the
// functions, and the requests it sends as IAM names them (`es:ESHttp<Method>`): the domain's access
// policy allows each role exactly these, and the engine's tests hold the engine to them.

/** Which engine the functions search with: `dynamodb` (default) or `opensearch`. */
export const SEARCH_ENGINE_VAR = 'SEARCH_ENGINE';
/** The domain's HTTPS endpoint (set by the CDK stack with `-c search=opensearch`). */
export const OPENSEARCH_ENDPOINT_VAR = 'OPENSEARCH_ENDPOINT';

/** The indexer: the template, `_bulk` and `_mget`, all POSTs. */
export const OPENSEARCH_WRITER_ACTIONS = ['ESHttpPost'] as const;
/** The read API: `_search` and `_count`, POSTs with a query body. */
export const OPENSEARCH_READER_ACTIONS = ['ESHttpPost'] as const;

export type OpenSearchAction = (typeof OPENSEARCH_WRITER_ACTIONS | typeof OPENSEARCH_READER_ACTIONS)[number];

/** The IAM action an HTTP method is authorized as. */
export function actionOfMethod(method: string): string {
  return `ESHttp${method.charAt(0).toUpperCase()}${method.slice(1).toLowerCase()}`;
}
