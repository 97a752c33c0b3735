// `npm run screenshots`: each dashboard page, light and dark, desktop and 360 px wide, written to
// .faultline/screenshots/ (git-ignored) from a local stack holding sample data sent through the API.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser';
import { startDashboardSample } from './dashboard-sample';

const outDir = fileURLToPath(new URL('../../.faultline/screenshots/', import.meta.url));
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, mobile: { width: 360, height: 780 } } as const;
const SCHEMES = ['light', 'dark'] as const;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The handlers' info lines would bury the list of files written.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const sample = await startDashboardSample();
const browser = await launchBrowser();
try {
  await mkdir(outDir, { recursive: true });
  const pages: Array<{ name: string; path: string; ready: string; signedIn: boolean }> = [
    { name: 'sign-in', path: '/', ready: '#token', signedIn: false },
    {
      name: 'items',
      path: '/items',
      ready: '.item-row[data-counter] .day-count:not(:empty)',
      signedIn: true,
    },
    { name: 'item', path: `/items/${sample.errorCounter}`, ready: '.chart-plot canvas', signedIn: true },
    { name: 'deploys', path: '/deploys', ready: 'table.deploys', signedIn: true },
    { name: 'notifications', path: '/notifications', ready: 'table.rules', signedIn: true },
    { name: 'operations', path: '/operations', ready: '[data-metrics-requested]', signedIn: true },
  ];
  for (const scheme of SCHEMES) {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ colorScheme: scheme, viewport, locale: 'en-US' });
      const session = JSON.stringify({ token: sample.token, canWrite: true });
      for (const shot of pages) {
        const page = await context.newPage();
        // The session the sign-in page would have saved, set before the app reads it.
        if (shot.signedIn) {
          await page.addInitScript({
            content: `sessionStorage.setItem('faultline.session', ${JSON.stringify(session)});`,
          });
        }
        await page.goto(`${sample.stack.url}${shot.path}`);
        await page.locator(shot.ready).first().waitFor();
        if (shot.name === 'item') await page.locator('.exception-class').first().waitFor();
        const file = join(outDir, `${shot.name}-${scheme}-${size}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(file);
        await page.close();
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
  await sample.stack.stop();
}
