// Which engine SEARCH_ENGINE picks, and what a function's cold start says when it cannot.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { ConfigurationError } from '#shared/config';
import { searchEngineFromEnv } from '#shared/search/engines';
import { OpenSearchIndex } from '#shared/search/opensearch/engine';
import { DynamoDBSearchIndex } from '#shared/store/search-index';

const documents = createDocumentClient(new DynamoDBClient({ region: 'us-east-1' }));

describe('the search engine a function uses', () => {
  it.each([
    { name: 'no SEARCH_ENGINE is the DynamoDB engine', env: { SEARCH_TABLE: 'search' } },
    {
      name: 'an empty SEARCH_ENGINE is the DynamoDB engine',
      env: { SEARCH_ENGINE: '', SEARCH_TABLE: 'search' },
    },
    {
      name: 'SEARCH_ENGINE=dynamodb is the DynamoDB engine',
      env: { SEARCH_ENGINE: 'dynamodb', SEARCH_TABLE: 's' },
    },
  ])('$name', ({ env }) => {
    expect(searchEngineFromEnv(documents, env)).toBeInstanceOf(DynamoDBSearchIndex);
  });

  it('SEARCH_ENGINE=opensearch is the OpenSearch engine, at the endpoint the stack names', () => {
    const env = {
      SEARCH_ENGINE: 'opensearch',
      OPENSEARCH_ENDPOINT: 'search-x.eu-west-1.es.amazonaws.com',
      AWS_REGION: 'eu-west-1',
    };
    expect(searchEngineFromEnv(documents, env)).toBeInstanceOf(OpenSearchIndex);
  });

  it.each([
    {
      env: { SEARCH_ENGINE: 'opensearch', AWS_REGION: 'eu-west-1' },
      message: /OPENSEARCH_ENDPOINT is not set/,
    },
    {
      env: { SEARCH_ENGINE: 'elasticsearch', SEARCH_TABLE: 'search' },
      message: /SEARCH_ENGINE is "elasticsearch"/,
    },
    { env: { SEARCH_ENGINE: 'DynamoDB', SEARCH_TABLE: 'search' }, message: /SEARCH_ENGINE is "DynamoDB"/ },
    { env: {}, message: /SEARCH_TABLE is not set/ },
  ])('$env is refused at cold start', ({ env, message }) => {
    expect(() => searchEngineFromEnv(documents, env)).toThrow(ConfigurationError);
    expect(() => searchEngineFromEnv(documents, env)).toThrow(message);
  });
});
