// Which search engine a function writes to and reads from, chosen by SEARCH_ENGINE (default
// `dynamodb`), so the indexer and the read API always talk to the same one.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError, tableNames } from '#shared/config';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import type { SearchEngine, SearchEngineName } from './engine';
import { openSearchIndexFromEnv } from './opensearch/engine';

export const DEFAULT_SEARCH_ENGINE: SearchEngineName = 'dynamodb';

/**
 * The engine SEARCH_ENGINE names (`opensearch` also needs OPENSEARCH_ENDPOINT, which the stack sets
 * with `-c search=opensearch`); throws `ConfigurationError` at cold start for any other.
 */
export function searchEngineFromEnv(
  documents: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
): SearchEngine {
  const name = env.SEARCH_ENGINE || DEFAULT_SEARCH_ENGINE;
  switch (name) {
    case 'dynamodb':
      return new DynamoDBSearchIndex(documents, tableNames(['search'], env).search);
    case 'opensearch':
      return openSearchIndexFromEnv(env);
    default:
      throw new ConfigurationError(
        `SEARCH_ENGINE is ${JSON.stringify(name.slice(0, 40))}: the engines are dynamodb and opensearch`,
      );
  }
}
