// Where a running local stack says how to reach it, so the CLI and scripts need no flags.
import { fileURLToPath } from 'node:url';

export const LOCAL_STACK_FILE = fileURLToPath(new URL('../../.faultline/local-stack.json', import.meta.url));
export const LOCAL_TOKENS_FILE = fileURLToPath(
  new URL('../../.faultline/local-tokens.json', import.meta.url),
);

export interface LocalStackDescription {
  url: string;
  region: string;
  endpoints: { dynamodb: string; sqs: string };
  tables: Record<string, string>;
}
