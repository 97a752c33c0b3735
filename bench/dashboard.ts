// The dashboard's figures: what a browser downloads for the whole app (gzip), and how long the first
// page (the items list, signed in) takes to be usable on the local stack, in headless Chromium.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '#infra/local/browser';
import { startDashboardSample } from '#infra/local/dashboard-sample';
import { buildDashboard } from '#shared/dashboard/build';
import { measureApart, measureIfChild } from './apart';

export interface DashboardResult {
  bundleGzipBytes: number;
  files: Array<{ path: string; gzipBytes: number }>;
  /** Navigation start to the first item row drawn, each in a fresh browser context (nothing cached). */
  firstPageMs: number[];
}

const RUNS = 7;

export async function measureDashboard(): Promise<DashboardResult> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-dashboard-bench-'));
  try {
    const built = await buildDashboard(dir);
    // In a process of its own (bench/apart.ts): the notifications bench starts a local stack too.
    const firstPageMs = await measureApart<number[]>('dashboard-first-page', import.meta.url, {
      // The page's requests would log a line each.
      env: { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return {
      bundleGzipBytes: built.gzipBytes,
      files: built.files.map(({ path, gzipBytes }) => ({ path, gzipBytes })),
      firstPageMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureFirstPage(): Promise<number[]> {
  const sample = await startDashboardSample();
  const browser = await launchBrowser();
  try {
    const session = JSON.stringify({ token: sample.token, canWrite: true });
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.addInitScript({
        content: `sessionStorage.setItem('faultline.session', ${JSON.stringify(session)});`,
      });
      await page.goto(`${sample.stack.url}/items`, { waitUntil: 'commit' });
      await page.locator('.item-row[data-counter]').first().waitFor();
      // The page's own clock: from its navigation start to the list being there to click.
      times.push(await page.evaluate('performance.now()'));
      await context.close();
    }
    return times;
  } finally {
    await browser.close();
    await sample.stack.stop();
  }
}

await measureIfChild('dashboard-first-page', measureFirstPage);
