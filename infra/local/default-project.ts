// The local stack's `default` project: created on first start, its tokens kept in .faultline/local-tokens.json.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#shared/aws/clients';
import { SCOPES, type Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';

export const DEFAULT_PROJECT_NAME = 'default';

export type LocalTokens = Record<Scope, string>;

/**
 * Returns working tokens for the `default` project, creating the project when absent. Tokens are
 * stored hashed, so they can only be shown when they are created: with a persistent data directory
 * the tokens file from the last start is reused while its tokens still work, and fresh ones are
 * issued otherwise.
 */
export async function ensureDefaultProject(
  client: DynamoDBClient,
  projectsTable: string,
  tokensFile: string,
): Promise<{ projectId: number; tokens: LocalTokens; created: boolean }> {
  const service = createProjectService({
    projects: new DynamoDBProjectRepository(createDocumentClient(client), projectsTable),
  });
  const existing = await service.findProjectByName(DEFAULT_PROJECT_NAME);
  let result: { projectId: number; tokens: LocalTokens; created: boolean };
  if (!existing) {
    const { project, tokens } = await service.createProject({ name: DEFAULT_PROJECT_NAME });
    result = { projectId: project.projectId, tokens, created: true };
  } else {
    const saved = await readTokens(tokensFile);
    const tokens = {} as LocalTokens;
    for (const scope of SCOPES) {
      const token = saved?.[scope];
      const stillValid = token
        ? await service.authorize(token, [scope]).then(
            (authorized) => authorized.project.projectId === existing.projectId,
            () => false,
          )
        : false;
      tokens[scope] =
        token && stillValid ? token : await service.createAccessToken(existing.projectId, [scope], scope);
    }
    result = { projectId: existing.projectId, tokens, created: false };
  }
  await mkdir(dirname(tokensFile), { recursive: true });
  await writeFile(tokensFile, `${JSON.stringify(result.tokens, null, 2)}\n`, { mode: 0o600 });
  return result;
}

async function readTokens(file: string): Promise<Partial<LocalTokens> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<LocalTokens>;
  } catch {
    return undefined;
  }
}
