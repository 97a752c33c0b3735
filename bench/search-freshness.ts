// How soon a new error can be found by search: the whole local stack (ingest, worker, fold, search
// indexer) and the DynamoDB engine polled with a word of the new item's title, as a user would search.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { credentials, region } from '../test/support/emulators';
import { measureApart, measureIfChild } from './apart';

export const SEARCHED_ERRORS = 15;
/** How often the bench searches while it waits, in milliseconds. */
export const SEARCH_POLL_MS = 50;
const SEARCH_TIMEOUT_MS = 30_000;

export interface SearchFreshnessResult {
  /** Milliseconds from sending the post to the first search that finds its item, each error. */
  latenciesMs: number[];
}

/** In a process of its own (bench/apart.ts): the notifications bench starts a local stack too. */
export function measureSearchFreshness(): Promise<SearchFreshnessResult> {
  return measureApart('search-freshness', import.meta.url);
}

async function measureInThisProcess(): Promise<SearchFreshnessResult> {
  // The handlers' log lines (one shared logger in this process) would bury the figures.
  logger.setLogLevel('ERROR');
  const stack = await startLocalStack({ port: 0, quiet: true, prefix: 'bench-search' });
  const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  try {
    const documents = createDocumentClient(dynamodb);
    const projects = createProjectService({
      projects: new DynamoDBProjectRepository(documents, stack.tableNames.projects),
    });
    const { project, tokens } = await projects.createProject({ name: 'bench-search' });
    const engine = new DynamoDBSearchIndex(documents, stack.tableNames.search);

    const latenciesMs: number[] = [];
    for (let i = 0; i < SEARCHED_ERRORS; i++) {
      // One word no other title holds, as the tokenizer keeps it whole.
      const word = `freshness${i}probe`;
      const sent = performance.now();
      const posted = await fetch(`${stack.url}/api/1/item/`, {
        method: 'POST',
        headers: { 'X-Rollbar-Access-Token': tokens.post_server_item, 'content-type': 'application/json' },
        body: JSON.stringify({
          data: {
            environment: 'production',
            // A new item each: the same trace would group every post into the first one.
            fingerprint: `bench-search-${i}`,
            body: {
              trace: {
                frames: [{ filename: 'app.js', method: 'checkout' }],
                exception: { class: 'CheckoutError', message: `payment declined ${word}` },
              },
            },
          },
        }),
      });
      if (!posted.ok) throw new Error(`the post was refused: ${await posted.text()}`);
      for (;;) {
        const { candidates } = await engine.candidates(
          project.projectId,
          { terms: [{ kind: 'word', value: word, negated: false }] },
          { limit: 1 },
        );
        if (candidates.length > 0) break;
        if (performance.now() - sent > SEARCH_TIMEOUT_MS) {
          throw new Error(`error ${i} was not searchable within ${SEARCH_TIMEOUT_MS} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, SEARCH_POLL_MS));
      }
      latenciesMs.push(performance.now() - sent);
    }
    await stack.idle();
    return { latenciesMs };
  } finally {
    dynamodb.destroy();
    await stack.stop();
  }
}

await measureIfChild('search-freshness', measureInThisProcess);
