// The shared search cases against a real OpenSearch cluster, when OPENSEARCH_URL names one (none can
// run on the machines that build Faultline). For a local cluster with security disabled:
//   docker run -d -p 9200:9200 -e discovery.type=single-node -e DISABLE_SECURITY_PLUGIN=true \
//     -e OPENSEARCH_INITIAL_ADMIN_PASSWORD='<a strong password>' opensearchproject/opensearch:2
//   OPENSEARCH_URL=http://localhost:9200 npx vitest run test/integration/opensearch.test.ts
// Each run writes to its own index (deleted afterwards), so it can share a cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSearchIndex, unsignedOpenSearchClient } from '#shared/search/opensearch/engine';
import { parseSearchQuery } from '#shared/search/query';
import { SEARCH_CASE_PROJECT, searchCases, searchCorpus } from '../support/search-cases';

const url = process.env.OPENSEARCH_URL;

describe.skipIf(!url)('OpenSearch answers the shared search cases (OPENSEARCH_URL)', () => {
  const client = unsignedOpenSearchClient(url ?? 'http://localhost:9200');
  const index = `faultline-items-test-${process.pid}-${Date.now()}`;
  const engine = new OpenSearchIndex(client, { index });

  beforeAll(async () => {
    await engine.putDocuments(searchCorpus.documents);
    await engine.putFacets(SEARCH_CASE_PROJECT, searchCorpus.facets);
    // Written documents are searchable after the next refresh (1 s); ask for it now.
    await client.indices.refresh({ index });
  }, 60_000);

  afterAll(async () => {
    await client.indices.delete({ index }).catch(() => undefined);
    await client.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
  });

  it('holds every document of the corpus', async () => {
    expect(await engine.countDocuments(SEARCH_CASE_PROJECT)).toBe(searchCorpus.documents.length);
  });

  it.each(searchCases)('$name ($query)', async ({ query, expected }) => {
    const found = await engine.candidates(SEARCH_CASE_PROJECT, parseSearchQuery(query), { limit: 100 });
    expect(found.candidates.map((candidate) => candidate.item_id)).toEqual(expected);
  });

  it('reads back the facets written for the corpus', async () => {
    const facets = await engine.readFacets(
      SEARCH_CASE_PROJECT,
      searchCorpus.facets.map((entry) => entry.item_id),
    );
    for (const entry of searchCorpus.facets) expect(facets.get(entry.item_id)).toEqual(entry.facets);
  });
});
