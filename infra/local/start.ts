// `npm start`: the whole product on this machine, on real emulators, with a `default` project ready to use.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  LOCAL_STACK_FILE,
  LOCAL_TOKENS_FILE,
  type LocalStackDescription,
} from '#shared/cli/local-stack-file';
import { DEFAULT_PROJECT_NAME, ensureDefaultProject } from './default-project';
import { LOCAL_REGION, type LocalStack, startLocalStack } from './stack';

// The local tools run on the Node 20 of these machines on purpose; Lambda runs Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.FAULTLINE_DATA_DIR ? resolve(process.env.FAULTLINE_DATA_DIR) : undefined;

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`PORT must be a port number, not ${process.env.PORT}`);
  const stack = await startLocalStack({ port, host: process.env.HOST, dataDir });
  stopOnSignals(stack);

  const client = new DynamoDBClient({
    endpoint: stack.endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { projectId, tokens, created } = await ensureDefaultProject(
    client,
    stack.tableNames.projects,
    LOCAL_TOKENS_FILE,
  );
  client.destroy();

  const description: LocalStackDescription = {
    url: stack.url,
    region: LOCAL_REGION,
    endpoints: stack.endpoints,
    tables: stack.tableNames,
  };
  await mkdir(dirname(LOCAL_STACK_FILE), { recursive: true });
  await writeFile(LOCAL_STACK_FILE, `${JSON.stringify(description, null, 2)}\n`);

  console.log(
    [
      '',
      `Project "${DEFAULT_PROJECT_NAME}" (id ${projectId}${created ? ', just created' : ''}); access tokens, also in ${LOCAL_TOKENS_FILE}:`,
      ...Object.entries(tokens).map(([scope, token]) => `  ${scope.padEnd(17)} ${token}`),
      '',
      dataDir
        ? `Data is kept in ${dataDir}; queued messages are not (fauxqs is in memory).`
        : 'Data is in memory and lost on exit: set FAULTLINE_DATA_DIR to keep it (queued messages are never kept).',
      `Email that notification rules send is shown at ${stack.ses.inboxUrl}`,
      `Notification rules: npx faultline rules --help (deliveries are printed here, one line each)`,
      `Try: curl -X POST ${stack.url}/api/1/item/ -H 'X-Rollbar-Access-Token: ${tokens.post_server_item}' \\`,
      `       -H 'Content-Type: application/json' -d '{"data":{"environment":"local","body":{"message":{"body":"Hello"}}}}'`,
      '',
      `Dashboard: ${stack.url}/ — sign in with the read token ${tokens.read}`,
      `  (to resolve, mute and edit rules: npx faultline token create ${DEFAULT_PROJECT_NAME} --scope read,write --name dashboard)`,
      '',
      `Faultline is ready at ${stack.url}`,
    ].join('\n'),
  );
}

function stopOnSignals(stack: LocalStack): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // A second signal while stopping means "now": the exit handler still kills DynamoDB Local's JVM.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping Faultline…`);
    Promise.all([stack.stop(), rm(LOCAL_STACK_FILE, { force: true })]).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Faultline did not stop cleanly', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
