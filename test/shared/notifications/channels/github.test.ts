// The GitHub channel through the real outbound client against a local GitHub that checks requests
// as GitHub documents them, with the issue links on DynamoDB Local.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { github } from '#shared/notifications/channels/github';
import type { DynamoDBChannelLinks } from '#shared/store/channel-links';
import type { Dynamo } from '../../../support/emulators';
import {
  type Deliverer,
  delivererOf,
  eventOf,
  itemOf,
  ruleOf,
  startLinks,
} from '../../../support/tracker-delivery';
import { type GitHubServer, startGitHub } from '../../../support/vendors/github';
import { answers } from '../../../support/vendors/tracker-server';

const TOKEN = 'ghp_TESTtoken0123456789abcdefghijklmnopq';
let dynamo: Dynamo;
let links: DynamoDBChannelLinks;
let sender: Deliverer;
let vendor: GitHubServer;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
  sender = delivererOf(links);
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  vendor = await startGitHub({ token: TOKEN, owner: 'acme', repo: 'shop' });
  return () => vendor.close();
});

const ruleFor = (trigger: Parameters<typeof ruleOf>[1] = 'new_item', config: Record<string, unknown> = {}) =>
  ruleOf('github', trigger, { token: TOKEN, owner: 'acme', repo: 'shop', api_url: vendor.url, ...config });

describe('GitHub issues', () => {
  it('a new item files an issue with its title, the details, labels and assignees, and remembers its number', async () => {
    const rule = ruleFor('new_item', { labels: ['bug', 'faultline'], assignees: ['octocat'] });
    const item = itemOf();
    const outcome = await sender.deliver(github, rule, eventOf('new_item', item));

    expect(outcome).toEqual({ status: 'sent', httpStatus: 201, response: '201 issue #1 created' });
    const [request] = vendor.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/repos/acme/shop/issues',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
    });
    const [issue] = vendor.issues;
    expect(issue).toMatchObject({
      title: `#${item.counter} ${item.title}`,
      labels: ['bug', 'faultline'],
      assignees: ['octocat'],
      state: 'open',
    });
    expect(issue?.body).toContain('Occurrences: 3');
    expect(issue?.body).toContain(`[Open in Faultline](https://faultline.example.com/items/${item.counter})`);
    expect(await links.get(rule.id, item.id)).toEqual({ issue: '1' });
  });

  it('a reactivated item reopens its issue with a comment; resolving it closes the issue as completed', async () => {
    const rule = ruleFor('reactivated_item');
    const item = itemOf();
    await sender.deliver(github, rule, eventOf('new_item', item));
    vendor.issues[0]!.state = 'closed';

    const reopened = await sender.deliver(github, rule, eventOf('reactivated_item', item));
    expect(reopened).toMatchObject({ status: 'sent', response: '201 issue #1 reopened, commented' });
    expect(vendor.issues[0]).toMatchObject({ state: 'open', state_reason: 'reopened' });
    expect(vendor.issues[0]?.comments[0]).toContain('Reactivated error in production');

    const resolved = await sender.deliver(github, rule, eventOf('resolved_item', item));
    expect(resolved).toMatchObject({ status: 'sent', response: '201 issue #1 closed, commented' });
    expect(vendor.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
    const patches = vendor.requests
      .filter((request) => request.method === 'PATCH')
      .map((request) => request.json);
    expect(patches).toEqual([{ state: 'open' }, { state: 'closed', state_reason: 'completed' }]);
    expect(vendor.issues).toHaveLength(1);
  });

  it('a 10th occurrence comments on the issue already filed, and files one when there is none', async () => {
    const rule = ruleFor('exp_repeat_item');
    const filed = itemOf();
    await sender.deliver(github, rule, eventOf('new_item', filed));
    expect(
      await sender.deliver(github, rule, eventOf('exp_repeat_item', filed, { occurrences: 10 })),
    ).toMatchObject({
      status: 'sent',
      response: '201 issue #1 commented',
    });
    expect(vendor.issues[0]?.comments[0]).toContain('10th occurrence in production');

    const unfiled = itemOf();
    await sender.deliver(github, rule, eventOf('exp_repeat_item', unfiled, { occurrences: 10 }));
    expect(vendor.issues).toHaveLength(2);
    expect(await links.get(rule.id, unfiled.id)).toEqual({ issue: '2' });
  });

  it('a new item delivered again files no second issue', async () => {
    const rule = ruleFor();
    const item = itemOf();
    const event = eventOf('new_item', item);
    await sender.deliver(github, rule, event);
    expect(await sender.deliver(github, rule, event, 2)).toMatchObject({ status: 'skipped' });
    expect(vendor.issues).toHaveLength(1);
  });

  it('a resolve with no issue filed sends nothing, and neither does an event without an item', async () => {
    const rule = ruleFor('resolved_item');
    expect(await sender.deliver(github, rule, eventOf('resolved_item', itemOf()))).toMatchObject({
      status: 'skipped',
    });
    expect(await sender.deliver(github, rule, eventOf('deploy', undefined))).toMatchObject({
      status: 'skipped',
    });
    expect(vendor.requests).toHaveLength(0);
  });

  it('a create answered 500 is retried and files exactly one issue', async () => {
    const rule = ruleFor();
    const item = itemOf();
    const event = eventOf('new_item', item);
    vendor.script(answers.serverError());
    expect(await sender.deliver(github, rule, event)).toMatchObject({ status: 'retry', httpStatus: 500 });
    expect(await sender.deliver(github, rule, event, 2)).toMatchObject({ status: 'sent', httpStatus: 201 });
    expect(await sender.deliver(github, rule, event, 3)).toMatchObject({ status: 'skipped' });
    expect(vendor.issues).toHaveLength(1);
  });

  it('a reopen whose comment fails is retried: the issue is reopened again and commented once', async () => {
    const rule = ruleFor('reopened_item');
    const item = itemOf();
    await sender.deliver(github, rule, eventOf('new_item', item));
    vendor.issues[0]!.state = 'closed';
    const event = eventOf('reopened_item', item);
    vendor.script(answers.serverError());
    // The first request of the reopen (the PATCH) fails: nothing changed yet.
    expect(await sender.deliver(github, rule, event)).toMatchObject({ status: 'retry' });
    // Then the PATCH goes through and the comment fails.
    vendor.script('vendor', answers.serverError());
    expect(await sender.deliver(github, rule, event, 2)).toMatchObject({ status: 'retry' });
    expect(vendor.issues[0]?.state).toBe('open');
    expect(await sender.deliver(github, rule, event, 3)).toMatchObject({ status: 'sent' });
    expect(vendor.issues[0]?.comments).toHaveLength(1);
    expect(vendor.issues[0]?.state).toBe('open');
  });

  it.each([
    [
      '429 with Retry-After',
      { status: 429, headers: { 'retry-after': '2' }, body: { message: 'slow down' } },
      2000,
    ],
    [
      '403 secondary rate limit with Retry-After',
      {
        status: 403,
        headers: { 'retry-after': '60' },
        body: { message: 'You have exceeded a secondary rate limit' },
      },
      60_000,
    ],
  ])('%s is retried after the hinted wait, then files the issue', async (_name, answer, wait) => {
    const rule = ruleFor();
    const event = eventOf('new_item', itemOf());
    vendor.script(answer);
    expect(await sender.deliver(github, rule, event)).toMatchObject({ status: 'retry', retryAfterMs: wait });
    expect(await sender.deliver(github, rule, event, 2)).toMatchObject({ status: 'sent' });
    expect(vendor.issues).toHaveLength(1);
  });

  it('403 with the primary rate limit spent is retried when the limit resets', async () => {
    const rule = ruleFor();
    const reset = Math.ceil(Date.now() / 1000) + 120;
    vendor.script({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded' },
    });
    const outcome = await sender.deliver(github, rule, eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' ? outcome.retryAfterMs : undefined).toBeGreaterThan(110_000);
  });

  it('a create answered 2xx without an issue number is not retried, so no second issue is filed', async () => {
    vendor.script({ status: 201, body: 'Created' });
    const rule = ruleFor();
    const item = itemOf();
    expect(await sender.deliver(github, rule, eventOf('new_item', item))).toMatchObject({
      status: 'failed',
      httpStatus: 201,
    });
    expect(await links.get(rule.id, item.id)).toBeUndefined();
  });

  it.each([
    ['a bad token (401)', 'token', 401],
    ['a repository that does not exist (404)', 'repo', 404],
    ['a repository with issues disabled (410)', 'disabled', 410],
    ['a token without access (403)', 'forbidden', 403],
  ])('%s fails for good', async (_name, what, status) => {
    if (what === 'disabled') vendor.disableIssues();
    if (what === 'forbidden')
      vendor.script({ status: 403, body: { message: 'Resource not accessible by personal access token' } });
    const rule = ruleFor('new_item', {
      ...(what === 'token' ? { token: 'ghp_wrong' } : {}),
      ...(what === 'repo' ? { repo: 'gone' } : {}),
    });
    expect(await sender.deliver(github, rule, eventOf('new_item', itemOf()))).toMatchObject({
      status: 'failed',
      httpStatus: status,
    });
    expect(vendor.issues).toHaveLength(0);
  });

  it('the token never appears in what a delivery reports, even when the server echoes it', async () => {
    vendor.script((request) => ({ status: 400, body: `echo: ${request.headers.authorization}` }));
    const outcome = await sender.deliver(github, ruleFor(), eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('failed');
    expect(outcome.response).toContain('echo: Bearer ***');
    expect(outcome.response).not.toContain(TOKEN);
  });

  it('client-sent text cannot mention people or break out of its code block', async () => {
    const item = itemOf({
      title: 'Error: ```\n@acme/oncall see [here](https://evil.test)',
      environment: '@everyone',
    });
    await sender.deliver(github, ruleFor(), eventOf('new_item', item));
    const body = vendor.issues[0]?.body ?? '';
    const fence = body.match(/^(`{3,})text$/m)?.[1] ?? '';
    expect(fence.length).toBeGreaterThan(3);
    const inside = body.slice(body.indexOf(`${fence}text`), body.lastIndexOf(fence));
    expect(inside).toContain('@acme/oncall');
    expect(inside).toContain('@everyone');
    expect(body.slice(body.lastIndexOf(fence))).not.toContain('@');
    expect(vendor.issues[0]?.title).toBe(
      `#${item.counter} Error: \`\`\` @acme/oncall see [here](https://evil.test)`,
    );
  });

  it('a `rules test` sample files an issue marked as a test and is not remembered', async () => {
    const rule = ruleFor();
    const item = itemOf();
    await sender.deliver(github, rule, eventOf('new_item', item, { sample: true }));
    expect(vendor.issues[0]?.title).toMatch(/^\[test\] /);
    expect(vendor.issues[0]?.body).toContain('faultline rules test');
    expect(await links.get(rule.id, item.id)).toBeUndefined();
    await sender.deliver(github, rule, eventOf('new_item', item));
    expect(vendor.issues).toHaveLength(2);
  });

  it('GitHub Enterprise Server is reached under its /api/v3 base URL', async () => {
    const enterprise = await startGitHub({ token: TOKEN, owner: 'acme', repo: 'shop', basePath: '/api/v3' });
    try {
      const rule = ruleFor('new_item', { api_url: `${enterprise.url}/api/v3/` });
      expect(await sender.deliver(github, rule, eventOf('new_item', itemOf()))).toMatchObject({
        status: 'sent',
      });
      expect(enterprise.requests[0]?.path).toBe('/api/v3/repos/acme/shop/issues');
    } finally {
      await enterprise.close();
    }
  });

  it('deliveries to one repository are paced at one a second, keyed without the token', () => {
    const limit = github.rateLimit(ruleFor().config);
    expect(limit?.perSecond).toBe(1);
    expect(limit?.key).toContain('/repos/acme/shop');
    expect(limit?.key).not.toContain(TOKEN);
  });
});
