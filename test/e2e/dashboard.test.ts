// The web dashboard in headless Chromium against the local stack: an error sent with the official
// rollbar SDK is found, opened, graphed and resolved in the browser, and a read token cannot change it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import Rollbar from 'rollbar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '#infra/local/browser';
import type { LocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { credentials, region } from '../support/emulators';
import { startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;
/** A token with read and write: what a person who triages uses (the project's write token cannot read). */
let triageToken: string;
let browser: Browser;
let item: { id: number; counter: number; title: string; total_occurrences: number };
const policyViolations: string[] = [];

function failInCheckout(): Error {
  return new TypeError('basket.items is not iterable');
}

async function readItem(id: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}/api/1/item/${id}`, {
    headers: { 'X-Rollbar-Access-Token': tokens.read },
  });
  return ((await response.json()) as { result: Record<string, unknown> }).result;
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('dashboard'));
  const projects = createProjectService({
    projects: new DynamoDBProjectRepository(
      createDocumentClient(new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials })),
      stack.tableNames.projects,
    ),
  });
  const project = await projects.authorize(tokens.read, ['read']);
  triageToken = await projects.createAccessToken(project.project.projectId, ['read', 'write'], 'triage');

  const rollbar = new Rollbar({
    accessToken: tokens.post_server_item,
    endpoint: `${stack.url}/api/1/`,
    environment: 'production',
    codeVersion: '1.2.2',
    captureUncaught: false,
    captureUnhandledRejections: false,
  });
  await new Promise((resolve, reject) =>
    rollbar.error(failInCheckout(), (error) => (error ? reject(error) : resolve(undefined))),
  );
  // Waits for the item through the API (as the page will) rather than for every poller to go idle.
  for (let attempt = 0; attempt < 150 && !item; attempt++) {
    const response = await fetch(`${stack.url}/api/1/items`, {
      headers: { 'X-Rollbar-Access-Token': tokens.read },
    });
    const found = ((await response.json()) as { result: { items: (typeof item)[] } }).result.items;
    if (found[0]) item = found[0];
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!item) throw new Error('the item sent through the rollbar SDK never appeared');
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh tab (its own session storage), watching for anything the page's CSP refused. */
async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });
  page.on('pageerror', (error) => policyViolations.push(`page error: ${error.message}`));
  return { context, page };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${stack.url}/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the dashboard in a browser', () => {
  it('is served at / and at its pages with its security headers', async () => {
    for (const path of ['/', `/items/${item.counter}`, '/notifications', '/operations']) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('refuses a token that is not one, and one it does not know, in words', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'not a token');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('32 hexadecimal characters');
    await page.getByLabel('Access token').fill('0'.repeat(32));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token is not known').waitFor();
    await context.close();
  });

  it('signs in with the read token, finds the item sent through the rollbar SDK, opens it and sees its graph and stack trace', async () => {
    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.getByText('read only').waitFor();
    const row = page.locator(`.item-row[data-counter="${item.counter}"]`);
    await expect(row.locator('.item-link').textContent()).resolves.toContain(
      'TypeError: basket.items is not iterable',
    );
    // The sparkline's day count comes from the item's counts.
    await expect(row.locator('.day-count').filter({ hasText: /\d/ }).textContent()).resolves.toBe('1');

    await row.locator('.item-link').click();
    await page.waitForURL(`${stack.url}/items/${item.counter}`);
    await expect(page.getByTestId('total-occurrences').textContent()).resolves.toBe(
      String(item.total_occurrences),
    );
    await page.locator('.chart-plot canvas').first().waitFor();
    await expect(page.locator('.chart-plot').getAttribute('data-total')).resolves.toBe('1');
    await expect(page.locator('.exception-class').first().textContent()).resolves.toBe('TypeError');
    const appFrame = page.locator('.frame details[open] summary').first();
    await expect(appFrame.textContent()).resolves.toContain('dashboard.test.ts');
    await expect(page.locator('.code-line.current').first().textContent()).resolves.toContain(
      "new TypeError('basket.items is not iterable')",
    );
    await context.close();
  });

  it('shows a read token no way to change the item, and refuses `r` in words', async () => {
    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.getByText('read only').waitFor();
    await page.goto(`${stack.url}/items/${item.counter}`);
    await page.locator('.exception-class').first().waitFor();
    await expect(page.getByRole('button', { name: 'Resolve' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Mute' }).count()).resolves.toBe(0);
    await page.keyboard.press('r');
    await page.getByText('This token may not change items').waitFor();
    expect((await readItem(item.id)).status).toBe('active');
    await context.close();
  });

  it('finds items with / and the status filter, and moves with j and k', async () => {
    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.locator('.item-row[data-counter]').first().waitFor();
    await page.keyboard.press('/');
    await expect(page.locator('#search:focus').count()).resolves.toBe(1);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await expect(page.locator('.item-row.selected').getAttribute('data-counter')).resolves.toBe(
      String(item.counter),
    );
    await page.getByLabel('Status').selectOption('muted');
    await page.getByText('No items match').waitFor();
    expect(page.url()).toBe(`${stack.url}/items?status=muted`);
    await context.close();
  });

  it("searches with Rollbar's syntax through the search box, and says what is wrong with a bad query", async () => {
    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.locator('.item-row[data-counter]').first().waitFor();
    const search = page.getByRole('searchbox', { name: 'Search items' });
    await search.fill('iterable level:error');
    await search.press('Enter');
    // The list polls: an item indexed a moment late still appears within its timeout.
    await page.locator(`.item-row[data-counter="${item.counter}"]`).waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get('query')).toBe('iterable level:error');
    await search.fill('iterable -level:error');
    await search.press('Enter');
    await page.getByText('No items match').waitFor();
    await search.fill('first_seen:>someday');
    await search.press('Enter');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/first_seen/);
    await context.close();
  });

  it('resolves the item with a write token, in a version, as the API then shows it', async () => {
    const { context, page } = await newPage();
    await signIn(page, triageToken);
    await page.getByText('read & write').waitFor();
    await page.goto(`${stack.url}/items/${item.counter}`);
    await page.getByLabel('Resolved in version').fill('1.2.3');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('Resolved in version 1.2.3.').waitFor();
    await expect(page.getByTestId('item-status').textContent()).resolves.toBe('resolved');
    const stored = await readItem(item.id);
    expect(stored.status).toBe('resolved');
    expect(stored.resolved_in_version).toBe('1.2.3');

    await page.getByRole('button', { name: 'Reopen' }).click();
    await page.getByText('Reopened.').waitFor();
    expect((await readItem(item.id)).status).toBe('active');
    await context.close();
  });

  it('creates, disables, tests and deletes a notification rule with a write token', async () => {
    const { context, page } = await newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, triageToken);
    await page.getByText('read & write').waitFor();
    await page.goto(`${stack.url}/notifications`);
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel(/^Config/).fill('{ "url": "http://127.0.0.1:9/hook" }');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText(/Rule \d+ created\. Its signing secret, shown this once: whsec_/).waitFor();
    const row = page.locator('tr[data-rule]');
    await expect(row.locator('.status').textContent()).resolves.toBe('enabled');
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('environment eq production');

    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('disabled').waitFor();
    const ruleId = await row.getAttribute('data-rule');
    const stored = await fetch(`${stack.url}/api/1/notifications/webhook/rule/${ruleId}`, {
      headers: { 'X-Rollbar-Access-Token': tokens.read },
    });
    expect(((await stored.json()) as { result: { status: string } }).result.status).toBe('disabled');

    await row.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText(`A test of rule ${ruleId} is queued`).waitFor();
    await row.getByRole('button', { name: 'Log' }).click();
    await page.getByRole('heading', { name: `Delivery log of rule ${ruleId} (webhook)` }).waitFor();

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(`Rule ${ruleId} deleted.`).waitFor();
    await page.getByText('No rules yet.').waitFor();
    await context.close();
  });

  it('shows a read token the rules without a way to change them', async () => {
    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.getByText('read only').waitFor();
    await page.goto(`${stack.url}/notifications`);
    await page.getByText('No rules yet. A write token creates them.').waitFor();
    await expect(page.getByRole('button', { name: 'New rule' }).count()).resolves.toBe(0);
    await context.close();
  });

  it('keeps the token out of URLs and cookies', async () => {
    const { context, page } = await newPage();
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    await signIn(page, tokens.read);
    await page.locator('.item-row[data-counter]').first().waitFor();
    expect(urls.filter((url) => url.includes(tokens.read))).toEqual([]);
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it("shows the local stack's own figures on the Operations page: accepted, stored and counted, and refusals by reason", async () => {
    const post = (token: string, body: string) =>
      fetch(`${stack.url}/api/1/item/`, {
        method: 'POST',
        headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { environment: 'production', body: { message: { body } } } }),
      });
    for (const body of ['operations one', 'operations two', 'operations three']) {
      expect((await post(tokens.post_server_item, body)).status).toBe(200);
    }
    expect((await post('0'.repeat(32), 'refused')).status).toBe(403);
    await stack.idle();
    // What the page will read, through the API: the figures as the local CloudWatch holds them now.
    const sums = async () => {
      const response = await fetch(`${stack.url}/api/1/operations/metrics?hours=3`, {
        headers: { 'X-Rollbar-Access-Token': tokens.read },
      });
      const { result } = (await response.json()) as {
        result: {
          regions: Array<{
            graphs: Array<{ id: string; series: Array<{ label: string; values: number[] }> }>;
          }>;
        };
      };
      const lines = result.regions[0]!.graphs.flatMap((graph) =>
        graph.series.map((series) => [
          `${graph.id}/${series.label}`,
          series.values.reduce((a, b) => a + b, 0),
        ]),
      );
      return Object.fromEntries(lines) as Record<string, number>;
    };
    // Every occurrence stored is counted once the stack is idle; said with the figures if not.
    const figures = await sums();
    expect(figures['occurrences/counted'], JSON.stringify(figures)).toBe(figures['occurrences/stored']);

    const { context, page } = await newPage();
    await signIn(page, tokens.read);
    await page.getByText('read only').waitFor();
    await page.getByRole('link', { name: 'Operations', exact: true }).click();
    const region = page.locator('section.region[data-region="us-east-1"]');
    await region.getByRole('heading', { name: /us-east-1/ }).waitFor();
    const total = async (graph: string, series: string) =>
      Number(
        await region.locator(`[data-graph="${graph}"] [data-series="${series}"]`).getAttribute('data-total'),
      );
    // At least this test's three and the SDK's item before it; every one stored is counted.
    expect(await total('occurrences', 'accepted'), JSON.stringify(figures)).toBeGreaterThanOrEqual(4);
    expect(await total('occurrences', 'stored'), JSON.stringify(figures)).toBeGreaterThanOrEqual(4);
    expect(await total('occurrences', 'counted')).toBe(await total('occurrences', 'stored'));
    expect(await total('refused', 'refused: unauthorized')).toBeGreaterThanOrEqual(1);
    // The local runtime's invocations: ingest ran and never failed.
    await region.locator('[data-graph="functions"] [data-series="ingestItem errors"]').waitFor();
    expect(await total('functions', 'ingestItem errors'), JSON.stringify(figures)).toBe(0);
    // What the local stack does not produce (SQS's metrics, API Gateway's) says so.
    await expect(region.locator('[data-graph="queues"] .no-data').textContent()).resolves.toBe(
      'No data in this window',
    );
    await region.locator('[data-graph="occurrences"] canvas').first().waitFor();

    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await page.getByText(/in 60-minute periods/).waitFor();
    expect(await total('occurrences', 'accepted')).toBeGreaterThanOrEqual(4);
    await context.close();
  });

  it('lets any read token see the installation-wide figures, and refuses other tokens and windows in words', async () => {
    const get = (token: string, hours: string) =>
      fetch(`${stack.url}/api/1/operations/metrics?hours=${hours}`, {
        headers: { 'X-Rollbar-Access-Token': token },
      });
    expect((await get(tokens.read, '24')).status).toBe(200);
    const refused = await get(tokens.post_server_item, '3');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      err: 1,
      message: 'access token lacks the required scope (read)',
    });
    const badWindow = await get(tokens.read, '5');
    expect(badWindow.status).toBe(422);
    expect(await badWindow.json()).toEqual({ err: 1, message: 'hours is 3, 24 or 168' });
  });

  it('broke no rule of its content security policy on any page', () => {
    expect(policyViolations).toEqual([]);
  });
});
