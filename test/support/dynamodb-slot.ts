// Runs before each test file (vitest setupFiles): points the file at its worker's DynamoDB Local
// (test/support/dynamodb-pool.ts) and empties it, so every file starts on an empty database, as it
// would on a JVM of its own. Files run one at a time per worker, so nothing else uses it meanwhile.
import { inject } from 'vitest';
import { RUNNING_DYNAMODB_LOCAL } from '#infra/local/dynamodb-local';

const pool = inject('dynamodbLocalPool');
const slot = Number(process.env.VITEST_POOL_ID ?? '1') - 1;
// Never two workers on one instance: each empties it before each of its files.
if (pool && slot >= pool.length) {
  throw new Error(
    `test worker ${slot + 1} has no DynamoDB Local of its own (the run started ${pool.length})`,
  );
}
const endpoint = pool?.[slot];

if (endpoint) {
  process.env[RUNNING_DYNAMODB_LOCAL] = endpoint;
  await deleteEveryTable(endpoint);
}

/** DynamoDB's JSON protocol by hand: the SDK would add its import time to every test file. */
async function call(at: string, target: string, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(at, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${target}`,
      // DynamoDB Local reads the access key from the header and checks no signature.
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`DynamoDB Local ${target}: ${JSON.stringify(answer)}`);
  return answer;
}

async function deleteEveryTable(at: string): Promise<void> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const page = await call(at, 'ListTables', start ? { ExclusiveStartTableName: start } : {});
    names.push(...((page.TableNames as string[] | undefined) ?? []));
    start = page.LastEvaluatedTableName as string | undefined;
  } while (start);
  await Promise.all(names.map((name) => call(at, 'DeleteTable', { TableName: name })));
}
