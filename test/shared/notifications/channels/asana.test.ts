// The Asana channel through the real outbound client against a local Asana that checks requests as
// Asana documents them, with the task links on DynamoDB Local.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asana } from '#shared/notifications/channels/asana';
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
import { type AsanaServer, startAsana } from '../../../support/vendors/asana';
import { answers } from '../../../support/vendors/tracker-server';

const TOKEN = '2/1200000000000001/1200000000000002:asanaPATsecret0123456789';
const PROJECT = '1200000000000099';
let dynamo: Dynamo;
let links: DynamoDBChannelLinks;
let sender: Deliverer;
let vendor: AsanaServer;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
  sender = delivererOf(links);
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  vendor = await startAsana({ token: TOKEN, projectGid: PROJECT });
  return () => vendor.close();
});

const ruleFor = (trigger: Parameters<typeof ruleOf>[1] = 'new_item', config: Record<string, unknown> = {}) =>
  ruleOf('asana', trigger, { token: TOKEN, project_gid: PROJECT, api_url: vendor.url, ...config });

describe('Asana', () => {
  it('a new item adds a task to the project and remembers its gid', async () => {
    const rule = ruleFor();
    const item = itemOf();
    const outcome = await sender.deliver(asana, rule, eventOf('new_item', item));
    const [task] = vendor.tasks;
    expect(outcome).toEqual({ status: 'sent', httpStatus: 201, response: `201 task ${task?.gid} created` });
    expect(vendor.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/1.0/tasks',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(task).toMatchObject({
      projects: [PROJECT],
      name: `#${item.counter} ${item.title}`,
      completed: false,
    });
    expect(task?.notes).toContain(`Open in Faultline: https://faultline.example.com/items/${item.counter}`);
    expect(await links.get(rule.id, item.id)).toEqual({ task: task?.gid });
  });

  it('a resolve completes the task; a reactivation marks it incomplete again, each with a story', async () => {
    const rule = ruleFor('resolved_item');
    const item = itemOf();
    await sender.deliver(asana, rule, eventOf('new_item', item));
    expect(await sender.deliver(asana, rule, eventOf('resolved_item', item))).toMatchObject({
      status: 'sent',
    });
    expect(vendor.tasks[0]?.completed).toBe(true);
    expect(await sender.deliver(asana, rule, eventOf('reactivated_item', item))).toMatchObject({
      status: 'sent',
    });
    expect(vendor.tasks[0]?.completed).toBe(false);
    expect(vendor.tasks[0]?.stories).toEqual([
      expect.stringContaining('Resolved in production'),
      expect.stringContaining('Reactivated error in production'),
    ]);
    const updates = vendor.requests
      .filter((request) => request.method === 'PUT')
      .map((request) => request.json);
    expect(updates).toEqual([{ data: { completed: true } }, { data: { completed: false } }]);
    expect(vendor.tasks).toHaveLength(1);
  });

  it('a 100th occurrence adds a story to the task', async () => {
    const rule = ruleFor('exp_repeat_item');
    const item = itemOf();
    await sender.deliver(asana, rule, eventOf('new_item', item));
    await sender.deliver(asana, rule, eventOf('exp_repeat_item', item, { occurrences: 100 }));
    expect(vendor.tasks[0]?.stories).toEqual([expect.stringContaining('100th occurrence in production')]);
  });

  it('a create answered 500 is retried and adds exactly one task', async () => {
    const rule = ruleFor();
    const event = eventOf('new_item', itemOf());
    vendor.script(answers.serverError());
    expect(await sender.deliver(asana, rule, event)).toMatchObject({ status: 'retry', httpStatus: 500 });
    expect(await sender.deliver(asana, rule, event, 2)).toMatchObject({ status: 'sent' });
    expect(await sender.deliver(asana, rule, event, 3)).toMatchObject({ status: 'skipped' });
    expect(vendor.tasks).toHaveLength(1);
  });

  it('429 is retried after its Retry-After', async () => {
    vendor.script(
      answers.throttled(30, { errors: [{ message: 'You have made too many requests recently.' }] }),
    );
    expect(await sender.deliver(asana, ruleFor(), eventOf('new_item', itemOf()))).toMatchObject({
      status: 'retry',
      retryAfterMs: 30_000,
    });
  });

  it.each([
    ['a wrong token (401)', { token: 'wrong' }, 401],
    ['a project that does not exist (400)', { project_gid: '1' }, 400],
  ])('%s fails for good', async (_name, config, status) => {
    const outcome = await sender.deliver(asana, ruleFor('new_item', config), eventOf('new_item', itemOf()));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: status });
    expect(vendor.tasks).toHaveLength(0);
  });

  it('a remembered task that is gone (404) fails for good', async () => {
    const rule = ruleFor('resolved_item');
    const item = itemOf();
    await links.put(rule.id, item.id, { task: '404404' });
    expect(await sender.deliver(asana, rule, eventOf('resolved_item', item))).toMatchObject({
      status: 'failed',
      httpStatus: 404,
    });
  });

  it('the token never appears in what a delivery reports, even when the server echoes it', async () => {
    vendor.script((request) => ({
      status: 403,
      body: { errors: [{ message: `refused ${request.headers.authorization}` }] },
    }));
    const outcome = await sender.deliver(asana, ruleFor(), eventOf('new_item', itemOf()));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 403 });
    expect(outcome.response).toContain('refused Bearer ***');
    expect(outcome.response).not.toContain(TOKEN);
  });
});
