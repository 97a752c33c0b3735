// The Jira channel through the real outbound client against a local Jira Cloud REST v3 that checks
// requests as Atlassian documents them, with the issue links on DynamoDB Local.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jira } from '#shared/notifications/channels/jira';
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
import { type JiraServer, startJira, textOfDocument } from '../../../support/vendors/jira';
import { answers } from '../../../support/vendors/tracker-server';

const EMAIL = 'bot@acme.test';
const API_TOKEN = 'ATATT3xFfGF0jiraTOKENabcdef0123456789';
let dynamo: Dynamo;
let links: DynamoDBChannelLinks;
let sender: Deliverer;
let vendor: JiraServer;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
  sender = delivererOf(links);
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  vendor = await startJira({ email: EMAIL, apiToken: API_TOKEN, projectKey: 'OPS' });
  return () => vendor.close();
});

const ruleFor = (trigger: Parameters<typeof ruleOf>[1] = 'new_item', config: Record<string, unknown> = {}) =>
  ruleOf('jira', trigger, {
    base_url: vendor.url,
    email: EMAIL,
    api_token: API_TOKEN,
    project_key: 'OPS',
    ...config,
  });

describe('Jira', () => {
  it('a new item creates an issue (a Bug by default) with an Atlassian Document description, and remembers its key', async () => {
    const rule = ruleFor();
    const item = itemOf();
    const outcome = await sender.deliver(jira, rule, eventOf('new_item', item));
    expect(outcome).toEqual({ status: 'sent', httpStatus: 201, response: '201 issue OPS-1 created' });
    expect(vendor.requests[0]).toMatchObject({
      method: 'POST',
      path: '/rest/api/3/issue',
      headers: { authorization: `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}` },
    });
    const [issue] = vendor.issues;
    expect(issue).toMatchObject({
      key: 'OPS-1',
      issueType: 'Bug',
      summary: `#${item.counter} ${item.title}`,
    });
    expect(textOfDocument(issue?.description)).toContain('Environment: production');
    expect(textOfDocument(issue?.description)).toContain('Open in Faultline');
    expect(await links.get(rule.id, item.id)).toEqual({ issue: 'OPS-1' });
  });

  it('a reactivation comments on the issue; a resolve comments that it was resolved in Faultline and moves nothing', async () => {
    const rule = ruleFor('reactivated_item', { issue_type: 'Task' });
    const item = itemOf();
    await sender.deliver(jira, rule, eventOf('new_item', item));
    expect(await sender.deliver(jira, rule, eventOf('reactivated_item', item))).toEqual({
      status: 'sent',
      httpStatus: 201,
      response: '201 issue OPS-1 commented',
    });
    expect(await sender.deliver(jira, rule, eventOf('resolved_item', item))).toMatchObject({
      status: 'sent',
    });
    const comments = vendor.issues[0]?.comments.map(textOfDocument) ?? [];
    expect(comments[0]).toContain('Reactivated error in production');
    expect(comments[1]).toContain('resolved in Faultline');
    expect(vendor.requests.map((request) => request.path)).toEqual([
      '/rest/api/3/issue',
      '/rest/api/3/issue/OPS-1/comment',
      '/rest/api/3/issue/OPS-1/comment',
    ]);
    expect(vendor.issues).toHaveLength(1);
  });

  it('a title with newlines or past 255 characters still makes a summary Jira accepts', async () => {
    await sender.deliver(
      jira,
      ruleFor(),
      eventOf('new_item', itemOf({ title: `line one\nline two ${'y'.repeat(400)}` })),
    );
    expect(vendor.issues).toHaveLength(1);
    expect(vendor.issues[0]?.summary).not.toMatch(/\n/);
    expect(vendor.issues[0]?.summary.length).toBeLessThanOrEqual(254);
  });

  it('a create answered 500 is retried and creates exactly one issue', async () => {
    const rule = ruleFor();
    const event = eventOf('new_item', itemOf());
    vendor.script(answers.serverError());
    expect(await sender.deliver(jira, rule, event)).toMatchObject({ status: 'retry', httpStatus: 500 });
    expect(await sender.deliver(jira, rule, event, 2)).toMatchObject({ status: 'sent' });
    expect(await sender.deliver(jira, rule, event, 3)).toMatchObject({ status: 'skipped' });
    expect(vendor.issues.map((issue) => issue.key)).toEqual(['OPS-1']);
  });

  it('429 is retried after its Retry-After', async () => {
    vendor.script(answers.throttled(2));
    expect(await sender.deliver(jira, ruleFor(), eventOf('new_item', itemOf()))).toMatchObject({
      status: 'retry',
      retryAfterMs: 2000,
    });
  });

  it.each([
    ['a wrong API token (401)', { api_token: 'wrong' }, 401],
    ['an unknown project (400)', { project_key: 'NOPE' }, 400],
    ['an issue type the project lacks (400)', { issue_type: 'Epic' }, 400],
  ])('%s fails for good', async (_name, config, status) => {
    const outcome = await sender.deliver(jira, ruleFor('new_item', config), eventOf('new_item', itemOf()));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: status });
    expect(vendor.issues).toHaveLength(0);
  });

  it('a remembered issue that is gone (404) fails for good', async () => {
    const rule = ruleFor('exp_repeat_item');
    const item = itemOf();
    await links.put(rule.id, item.id, { issue: 'OPS-999' });
    expect(
      await sender.deliver(jira, rule, eventOf('exp_repeat_item', item, { occurrences: 100 })),
    ).toMatchObject({
      status: 'failed',
      httpStatus: 404,
    });
  });

  it('the API token never appears in what a delivery reports, even when the server echoes the credentials', async () => {
    vendor.script((request) => ({
      status: 400,
      body: { errorMessages: [`bad auth ${request.headers.authorization}`], errors: {} },
    }));
    const outcome = await sender.deliver(jira, ruleFor(), eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('failed');
    expect(outcome.response).toContain('bad auth Basic ***');
    expect(outcome.response).not.toContain(Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64'));
  });

  it('a `rules test` sample creates an issue marked as a test and is not remembered', async () => {
    const rule = ruleFor();
    const item = itemOf();
    await sender.deliver(jira, rule, eventOf('new_item', item, { sample: true }));
    expect(vendor.issues[0]?.summary).toMatch(/^\[test\] /);
    expect(await links.get(rule.id, item.id)).toBeUndefined();
  });
});
