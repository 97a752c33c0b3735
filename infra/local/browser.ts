// Headless Chromium for the dashboard: its browser tests, `npm run screenshots` and the bench. The binary
// ships inside @sparticuz/chromium (no browser download is possible here), driven by playwright-core.
import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';

/**
 * Flags of @sparticuz/chromium's Lambda defaults left out: two would weaken what the tests check (the
 * page's same-origin and mixed-content rules must hold as in a real browser), and in one process
 * closing a browser context closes the whole browser.
 */
const LEFT_OUT_FLAGS = new Set([
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--single-process',
]);

export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((flag) => !LEFT_OUT_FLAGS.has(flag)),
    headless: true,
    // With the C locale of CI machines Chromium reports `en-US@posix`, which Intl refuses.
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' },
  });
}
