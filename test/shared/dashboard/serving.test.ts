// The dashboard is built by esbuild into a page and hashed assets, served with its security headers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, type DashboardBuild } from '#shared/dashboard/build';
import {
  assetResponse,
  type DashboardFiles,
  loadDashboardFiles,
  pageResponse,
} from '#shared/dashboard/serving';

let dir: string;
let build: DashboardBuild;
let files: DashboardFiles;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-dashboard-'));
  build = await buildDashboard(dir);
  files = loadDashboardFiles(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const bodyOf = (response: APIGatewayProxyStructuredResultV2): string => {
  const raw = Buffer.from(String(response.body), response.isBase64Encoded ? 'base64' : 'utf8');
  return (response.headers?.['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
};

const assetNames = () => build.files.filter((file) => file.path.startsWith('assets/')).map((f) => f.path);

describe('the dashboard build', () => {
  it('writes a page, one script and one stylesheet, named by their content', () => {
    // Sorted by extension, not by name: the hashes decide the order of the names.
    const byExtension = (path: string) => path.slice(path.lastIndexOf('.'));
    expect(
      build.files.map((file) => file.path).sort((a, b) => byExtension(a).localeCompare(byExtension(b))),
    ).toEqual([
      expect.stringMatching(/^assets\/app-[A-Z0-9]{8}\.css$/),
      'index.html',
      expect.stringMatching(/^assets\/app-[A-Z0-9]{8}\.js$/),
    ]);
  });

  it('stays within its size goal of 150 KB gzip for the whole app', () => {
    expect(build.gzipBytes).toBeGreaterThan(1000);
    expect(build.gzipBytes).toBeLessThanOrEqual(150 * 1024);
  });

  it('gives the same names when built again from the same sources', async () => {
    const again = await buildDashboard(dir);
    expect(again.files.map((file) => file.path)).toEqual(build.files.map((file) => file.path));
  });
});

describe('the page', () => {
  it('links its script and stylesheet and holds no inline script or style', () => {
    const html = bodyOf(pageResponse(files, undefined));
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(/src="\/assets\/app-[A-Z0-9]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/<style\b|\sstyle="/);
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
  });

  it.each([
    ['content-security-policy', expect.stringContaining("script-src 'self';")],
    ['content-security-policy', expect.stringContaining("frame-ancestors 'none'")],
    ['content-security-policy', expect.stringContaining("default-src 'none'")],
    ['referrer-policy', 'no-referrer'],
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['cache-control', 'no-cache'],
    ['content-type', 'text/html; charset=utf-8'],
  ])('is answered with %s: %s', (header, value) => {
    expect(pageResponse(files, 'gzip').headers?.[header]).toEqual(value);
  });

  it('never allows inline or evaluated script', () => {
    const policy = String(pageResponse(files, undefined).headers?.['content-security-policy']);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('is gzipped for a browser that accepts it, and plain for one that does not', () => {
    const zipped = pageResponse(files, 'gzip, deflate, br');
    const plain = pageResponse(files, undefined);
    expect(zipped.headers?.['content-encoding']).toBe('gzip');
    expect(plain.headers?.['content-encoding']).toBeUndefined();
    expect(bodyOf(zipped)).toBe(bodyOf(plain));
  });

  it('says the dashboard is not built, in Rollbar shape, when its folder holds no build', () => {
    const empty = loadDashboardFiles(join(dir, 'nothing-here'));
    const response = pageResponse(empty, undefined);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(String(response.body))).toEqual({
      err: 1,
      message: 'the dashboard is not built: run `npm run build:dashboard` or redeploy',
    });
    expect(response.headers?.['x-content-type-options']).toBe('nosniff');
  });
});

describe('the assets', () => {
  it('serves each built asset by its name, cached for good, with its type', () => {
    for (const path of assetNames()) {
      const response = assetResponse(files, path.slice('assets/'.length), undefined);
      expect(response.statusCode).toBe(200);
      expect(response.headers?.['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers?.['content-type']).toMatch(
        path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      expect(response.headers?.['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it.each([
    '../index.html',
    '..%2Findex.html',
    'index.html',
    'constructor',
    '__proto__',
    '',
    'app.js',
    undefined,
  ])('answers %s with a 404 in Rollbar shape, reading nothing from disk', (name) => {
    const response = assetResponse(files, name, undefined);
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(String(response.body))).toEqual({ err: 1, message: 'no such dashboard asset' });
  });
});
