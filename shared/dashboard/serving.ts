// What the dashboard's serving function answers: the page for every dashboard path, the built
// assets by name, each with the security headers; read from the build folder once per container.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { rollbarError } from '#shared/http/response';

/** The build folder (index.html and assets/); in Lambda, the `dashboard/` folder bundled beside the handler. */
export const DASHBOARD_DIR_VAR = 'FAULTLINE_DASHBOARD_DIR';

/**
 * The page runs only its own script and styles and talks only to its own origin (the API), nothing
 * may frame it, and no request it makes carries a Referer (a URL never holds the token, but links
 * out of an occurrence's data should not learn the dashboard's address either).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  // For browsers older than CSP's frame-ancestors.
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

interface ServedFile {
  contentType: string;
  body: Buffer;
  gzipped: Buffer;
}

export interface DashboardFiles {
  /** Undefined when the folder holds no build: every page is then a 503 that says so. */
  page: ServedFile | undefined;
  /** By file name: only names the build wrote can be asked for, so no path ever reaches the disk. */
  assets: ReadonlyMap<string, ServedFile>;
}

/** Reads a build folder whole (a few tens of kilobytes) and gzips each file once. */
export function loadDashboardFiles(dir: string): DashboardFiles {
  const indexPath = join(dir, 'index.html');
  const page = existsSync(indexPath) ? served(indexPath) : undefined;
  const assets = new Map<string, ServedFile>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = CONTENT_TYPES[extensionOf(name)];
      if (type && !name.includes('.partial-')) assets.set(name, served(join(assetsDir, name), type));
    }
  }
  return { page, assets };
}

function served(path: string, contentType = CONTENT_TYPES['.html']!): ServedFile {
  const body = readFileSync(path);
  return { contentType, body, gzipped: gzipSync(body, { level: 9 }) };
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot);
}

/** The app's page, whatever dashboard path was asked: the app routes in the browser. Never cached. */
export function pageResponse(files: DashboardFiles, acceptEncoding: string | undefined) {
  if (!files.page) {
    return withSecurityHeaders(
      rollbarError(503, 'the dashboard is not built: run `npm run build:dashboard` or redeploy'),
    );
  }
  return fileResponse(files.page, acceptEncoding, 'no-cache');
}

/** A built asset by its hashed name: cached for a year, since a new build gives new names. */
export function assetResponse(
  files: DashboardFiles,
  name: string | undefined,
  acceptEncoding: string | undefined,
): APIGatewayProxyStructuredResultV2 {
  const file = name === undefined ? undefined : files.assets.get(name);
  if (!file) return withSecurityHeaders(rollbarError(404, 'no such dashboard asset'));
  return fileResponse(file, acceptEncoding, 'public, max-age=31536000, immutable');
}

function fileResponse(
  file: ServedFile,
  acceptEncoding: string | undefined,
  cacheControl: string,
): APIGatewayProxyStructuredResultV2 {
  // API Gateway's HTTP APIs do not compress: the function sends gzip itself to a browser that takes it.
  const gzip = /\bgzip\b/i.test(acceptEncoding ?? '');
  return {
    statusCode: 200,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': file.contentType,
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: (gzip ? file.gzipped : file.body).toString('base64'),
    isBase64Encoded: true,
  };
}

function withSecurityHeaders(response: APIGatewayProxyStructuredResultV2): APIGatewayProxyStructuredResultV2 {
  return { ...response, headers: { ...response.headers, ...SECURITY_HEADERS } };
}
