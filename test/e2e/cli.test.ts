// The command-line tool, run as users run it, against the local stack's DynamoDB.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDeniedError } from '#shared/errors';
import type { SCOPES } from '#shared/projects/access-tokens';
import { runFaultline } from '../support/cli';
import { type Dynamo, projectServiceOn, startDynamoWithTables } from '../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };

/** Runs the CLI against the emulator's tables (from the CLI's bundle; `bin` runs bin/faultline.mjs itself). */
async function faultline(...args: string[]) {
  return runFaultline(
    [
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

/** How a failed run ends: its exit code and what it wrote on stderr. */
async function failing(...args: string[]): Promise<{ code: number; stderr: string }> {
  const outcome = await faultline(...args).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  if (!outcome) throw new Error(`faultline ${args.join(' ')} succeeded`);
  return { code: outcome.code, stderr: outcome.stderr };
}

/** What a Lambda container that starts now makes of the token. */
function coldContainer() {
  return projectServiceOn(dynamo);
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

  it('a second project named like an existing one burns no id: the next project gets the next one', async () => {
    const first = JSON.parse((await faultline('project', 'create', 'again')).stdout) as {
      project_id: number;
    };
    expect(await failing('project', 'create', 'again')).toEqual({
      code: 2,
      stderr: 'faultline: a project named again exists already\n',
    });
    const next = JSON.parse((await faultline('project', 'create', 'again2')).stdout) as {
      project_id: number;
    };
    expect(next.project_id).toBe(first.project_id + 1);
  });

  it('refuses a project name outside the pattern in one line, creating nothing', async () => {
    const before = JSON.parse((await faultline('project', 'list')).stdout) as unknown[];
    const { code, stderr } = await failing('project', 'create', 'bad name!');
    expect(code).toBe(2);
    expect(stderr).toBe(
      "faultline: invalid project name \"bad name!\": use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit\n",
    );
    expect(JSON.parse((await faultline('project', 'list')).stdout)).toHaveLength(before.length);
  });

  it('lists projects with their ids, grouping versions and creation times', async () => {
    await faultline('project', 'create', 'listed', '--grouping-version', '1');
    const listed = JSON.parse((await faultline('project', 'list')).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((project) => project.name === 'listed')).toEqual({
      project_id: expect.any(Number),
      name: 'listed',
      grouping_version: 1,
      rate_limit_per_minute: 5000,
      rate_limit_from: 'default',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const ids = listed.map((project) => project.project_id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(listed.map((project) => project.name)).toEqual(
      expect.arrayContaining(['shop', 'switching', 'listed']),
    );
  });

  it('revokes a leaked token by name or hash prefix: it is no longer listed and a new container refuses it', async () => {
    const created = JSON.parse((await faultline('project', 'create', 'leaky')).stdout) as {
      tokens: Record<(typeof SCOPES)[number], string>;
    };
    await expect(
      coldContainer().authorize(created.tokens.post_server_item, ['post_server_item']),
    ).resolves.toBeDefined();

    const revoked = await faultline('token', 'revoke', 'leaky', 'post_server_item');
    expect(JSON.parse(revoked.stdout)).toMatchObject({ revoked: { name: 'post_server_item' } });
    expect(revoked.stderr).toContain('60 s');
    await expect(
      coldContainer().authorize(created.tokens.post_server_item, ['post_server_item']),
    ).rejects.toBeInstanceOf(AccessDeniedError);

    const listed = JSON.parse((await faultline('token', 'list', 'leaky')).stdout) as Array<{
      name: string;
      sha256: string;
    }>;
    expect(listed.map((token) => token.name)).toEqual(expect.not.arrayContaining(['post_server_item']));
    const read = listed.find((token) => token.name === 'read')!;
    await faultline('token', 'revoke', 'leaky', read.sha256.slice(0, 8));
    await expect(coldContainer().authorize(created.tokens.read, ['read'])).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    await expect(coldContainer().authorize(created.tokens.write, ['write'])).resolves.toBeDefined();
  });

  it('sets rate limits on a project and on a token: the token’s wins, and default removes one', async () => {
    const created = JSON.parse((await faultline('project', 'create', 'limited')).stdout) as {
      tokens: Record<(typeof SCOPES)[number], string>;
    };
    expect(
      JSON.parse((await faultline('project', 'set', 'limited', '--rate-limit', '300')).stdout),
    ).toMatchObject({ rate_limit_per_minute: 300, rate_limit_from: 'project' });
    expect(
      JSON.parse(
        (await faultline('token', 'set', 'limited', 'post_server_item', '--rate-limit', '20')).stdout,
      ),
    ).toMatchObject({ name: 'post_server_item', rate_limit_per_minute: 20, rate_limit_from: 'token' });
    const listed = JSON.parse((await faultline('token', 'list', 'limited')).stdout) as Array<{
      name: string;
      rate_limit_per_minute: number;
      rate_limit_from: string;
    }>;
    expect(listed.find((token) => token.name === 'post_server_item')).toMatchObject({
      rate_limit_per_minute: 20,
      rate_limit_from: 'token',
    });
    expect(listed.find((token) => token.name === 'read')).toMatchObject({
      rate_limit_per_minute: 300,
      rate_limit_from: 'project',
    });
    await faultline('project', 'set', 'limited', '--rate-limit', 'default');
    // What a container that starts now applies.
    const container = coldContainer();
    await expect(
      container.authorize(created.tokens.post_server_item, ['post_server_item']),
    ).resolves.toMatchObject({ rateLimitPerMinute: 20 });
    await expect(container.authorize(created.tokens.read, ['read'])).resolves.toMatchObject({
      rateLimitPerMinute: 5000,
    });
  }, 60_000);

  it('refuses to revoke a token that several answer to, in one line, revoking none', async () => {
    await faultline('project', 'create', 'twins');
    await faultline('token', 'create', 'twins', '--scope', 'read', '--name', 'ci');
    await faultline('token', 'create', 'twins', '--scope', 'read', '--name', 'ci');
    const { code, stderr } = await failing('token', 'revoke', 'twins', 'ci');
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^faultline: 2 tokens of project twins match ci \([0-9a-f]{12}…, [0-9a-f]{12}…\): name one by a longer sha256 prefix\n$/,
    );
    expect(JSON.parse((await faultline('token', 'list', 'twins')).stdout)).toHaveLength(6);
    expect(await failing('token', 'revoke', 'nowhere', 'ci')).toEqual({
      code: 2,
      stderr: 'faultline: no project named nowhere\n',
    });
  });
});

describe('faultline CLI, its options and its errors', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

  it('prints its version, run as users run it (bin/faultline.mjs)', async () => {
    expect((await runFaultline(['--version'], { entry: 'bin' })).stdout).toBe(`faultline ${version}\n`);
  });

  it('prints its usage with --help', async () => {
    const { stdout } = await faultline('--help');
    expect(stdout).toContain('faultline token revoke <project> <token name | sha256 prefix>');
    expect(stdout).toContain('faultline project list');
  });

  it.each([
    [['project', 'list', '--frobnicate'], 'faultline: unknown option --frobnicate (see faultline --help)'],
    [['token', 'create', 'shop', '--name'], 'faultline: --name needs a value'],
    [['project', 'delete', 'shop'], 'faultline: unknown command: project delete shop (see faultline --help)'],
    [
      ['token', 'revoke', 'shop'],
      'faultline: usage: faultline token revoke <project> <token name | sha256 prefix>',
    ],
    [['project', 'show', 'nowhere'], 'faultline: no project named nowhere'],
  ])('%j fails with one line and exit code 2, no usage and no stack', async (args, line) => {
    expect(await failing(...args)).toEqual({ code: 2, stderr: `${line}\n` });
  });

  it('a failure it did not expect is one line with exit code 1; --debug adds the stack', async () => {
    const unreachable = ['project', 'list', '--projects-table', 'gone', '--endpoint', 'http://127.0.0.1:9'];
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_MAX_ATTEMPTS: '1',
    };
    const plain = await runFaultline(unreachable, { env, entry: 'bin' }).catch((error) => error);
    expect(plain).toMatchObject({ code: 1, stderr: 'faultline: connect ECONNREFUSED 127.0.0.1:9\n' });
    const debug = await runFaultline([...unreachable, '--debug'], { env }).catch((error) => error);
    expect(debug).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^faultline: connect ECONNREFUSED.*\n[\s\S]*\n\s+at /),
    });
  });
});
