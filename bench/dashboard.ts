// The dashboard's figures: what a browser downloads for the whole app (gzip), and how long the first
// page (the items list, signed in) takes to be usable on the local stack, in headless Chromium.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launchBrowser } from '#infra/local/browser';
import { startDashboardSample } from '#infra/local/dashboard-sample';
import { buildDashboard } from '#shared/dashboard/build';

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
    // The page runs in its own process: handlers are imported once per process, and the notifications
    // bench starts its own stack in this one.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--first-page'],
      { env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, maxBuffer: 16 * 1024 * 1024 },
    );
    const firstPageMs = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as number[];
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

if (process.argv.includes('--first-page')) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  console.log(JSON.stringify(await measureFirstPage()));
  process.exit(0);
}
