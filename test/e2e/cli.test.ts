// The command-line tool, run as users run it, against the local stack's DynamoDB.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SCOPES } from '#shared/projects/access-tokens';
import { type Dynamo, startDynamoWithTables } from '../support/emulators';

const run = promisify(execFile);
let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };

async function faultline(...args: string[]) {
  return run(
    process.execPath,
    [
      'bin/faultline.mjs',
      ...args,
      '--endpoint',
      dynamo.endpoint,
      '--projects-table',
      dynamo.tableNames.projects,
      '--region',
      'us-east-1',
    ],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
  );
}

beforeAll(async () => {
  dynamo = await startDynamoWithTables('cli');
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('faultline CLI', () => {
  it('creates a project with one token per scope, then more tokens, and lists them by hash', async () => {
    const created = JSON.parse((await faultline('project', 'create', 'shop')).stdout) as {
      project_id: number;
      tokens: Record<(typeof SCOPES)[number], string>;
    };
    expect(created.project_id).toBeGreaterThan(0);
    expect(Object.keys(created.tokens).sort()).toEqual([
      'post_client_item',
      'post_server_item',
      'read',
      'write',
    ]);
    for (const token of Object.values(created.tokens)) expect(token).toMatch(/^[0-9a-f]{32}$/);

    const extra = JSON.parse(
      (await faultline('token', 'create', 'shop', '--scope', 'read,write')).stdout,
    ) as {
      scopes: string[];
      access_token: string;
    };
    expect(extra.scopes).toEqual(['read', 'write']);

    const listed = JSON.parse((await faultline('token', 'list', 'shop')).stdout) as Array<{ sha256: string }>;
    expect(listed).toHaveLength(5);
    // Tokens are stored hashed: the listing never shows one.
    expect(JSON.stringify(listed)).not.toContain(extra.access_token);
  });

  it('switches a project to grouping v1 (new projects get v2)', async () => {
    await faultline('project', 'create', 'switching');
    expect(JSON.parse((await faultline('project', 'show', 'switching')).stdout)).toMatchObject({
      grouping_version: 2,
    });
    const set = JSON.parse(
      (await faultline('project', 'set', 'switching', '--grouping-version', '1')).stdout,
    );
    expect(set).toMatchObject({ grouping_version: 1 });
    const shown = JSON.parse((await faultline('project', 'show', 'switching')).stdout);
    expect(shown).toMatchObject({ name: 'switching', grouping_version: 1 });
    await expect(faultline('project', 'set', 'switching', '--grouping-version', '3')).rejects.toMatchObject({
      code: 2,
    });
  });

  it('refuses a second project with the same name and an unknown scope', async () => {
    await faultline('project', 'create', 'twice');
    await expect(faultline('project', 'create', 'twice')).rejects.toMatchObject({ code: 2 });
    await expect(faultline('token', 'create', 'twice', '--scope', 'admin')).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown scope admin'),
    });
  });
});
