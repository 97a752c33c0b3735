// How soon a new error can be found by search: the whole local stack (ingest, worker, fold, search
// indexer) and the DynamoDB engine polled with a word of the new item's title, as a user would search.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { credentials, region } from '../test/support/emulators';

export const SEARCHED_ERRORS = 15;
/** How often the bench searches while it waits, in milliseconds. */
export const SEARCH_POLL_MS = 50;
const SEARCH_TIMEOUT_MS = 30_000;

export interface SearchFreshnessResult {
  /** Milliseconds from sending the post to the first search that finds its item, each error. */
  latenciesMs: number[];
}

/** Marks the child's answer among whatever else the stack prints. */
const RESULT_MARK = 'search-freshness-result: ';
const CHILD_VARIABLE = 'FAULTLINE_BENCH_SEARCH_FRESHNESS_CHILD';

/**
 * Runs the measure in a process of its own: handlers build their clients once per process, from the
 * first local stack's environment, so a second stack in the bench's process (the notifications bench
 * starts one) would send to the first one's stopped emulators.
 */
export async function measureSearchFreshness(): Promise<SearchFreshnessResult> {
  const child = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, [CHILD_VARIABLE]: '1' },
      maxBuffer: 256 * 1024 * 1024,
    },
  ).catch((error: { stderr?: string }) => {
    throw new Error(`the search freshness bench failed: ${error.stderr?.slice(-2_000) ?? error}`);
  });
  const line = child.stdout.split('\n').find((each) => each.startsWith(RESULT_MARK));
  if (!line) throw new Error('the search freshness bench printed no result');
  return JSON.parse(line.slice(RESULT_MARK.length)) as SearchFreshnessResult;
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

if (process.env[CHILD_VARIABLE] === '1') {
  const result = await measureInThisProcess();
  console.log(`${RESULT_MARK}${JSON.stringify(result)}`);
}
