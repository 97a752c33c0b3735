// Builds the dashboard (shared/dashboard/app) with esbuild into a folder the serving function reads:
// index.html and content-hashed assets. Run by `npm start`, the tests, the CDK bundling and
// `npm run build:dashboard`; never a manual step.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const appDir = fileURLToPath(new URL('./app/', import.meta.url));
/** Where `npm run build:dashboard` writes unless told: git-ignored with the rest of the local state. */
export const DEFAULT_DASHBOARD_OUT_DIR = fileURLToPath(
  new URL('../../.faultline/dashboard/', import.meta.url),
);

export interface BuiltFile {
  /** Path inside the output folder: `index.html`, `assets/app-3F2K….js`. */
  path: string;
  bytes: number;
  gzipBytes: number;
}

export interface DashboardBuild {
  outDir: string;
  files: BuiltFile[];
  /** What a browser downloads for the first page, gzipped: the page, its script and its styles. */
  gzipBytes: number;
}

/**
 * Writes index.html and assets/ into `outDir`. Each file is written beside its name and renamed into
 * place, so a server (or a second build running at once, as parallel tests do) never reads half a
 * file; assets of an earlier build that this one does not name are removed.
 */
export async function buildDashboard(outDir: string = DEFAULT_DASHBOARD_OUT_DIR): Promise<DashboardBuild> {
  const assetsDir = join(outDir, 'assets');
  const result = await build({
    entryPoints: [join(appDir, 'main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    write: false,
    outdir: assetsDir,
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(appDir, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'silent',
  });
  const outputs = result.outputFiles.map((file) => ({
    path: relative(outDir, file.path).split('\\').join('/'),
    contents: Buffer.from(file.contents),
  }));
  const script = outputs.find((file) => file.path.endsWith('.js'));
  const styles = outputs.find((file) => file.path.endsWith('.css'));
  if (!script || !styles) throw new Error('the dashboard build produced no script or no stylesheet');
  const index = Buffer.from(indexHtml(`/${script.path}`, `/${styles.path}`));
  const files = [...outputs, { path: 'index.html', contents: index }];

  await mkdir(assetsDir, { recursive: true });
  for (const file of files) await writeAtomically(join(outDir, file.path), file.contents);
  const current = new Set(outputs.map((file) => basename(file.path)));
  for (const name of await readdir(assetsDir)) {
    if (!current.has(name) && !name.includes('.partial-')) await rm(join(assetsDir, name), { force: true });
  }

  const built = files.map((file) => ({
    path: file.path,
    bytes: file.contents.length,
    gzipBytes: gzipSync(file.contents).length,
  }));
  return { outDir, files: built, gzipBytes: built.reduce((sum, file) => sum + file.gzipBytes, 0) };
}

/** The one page: no inline script or style, so the CSP can say `script-src 'self'` and nothing else. */
function indexHtml(scriptPath: string, stylesPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Faultline</title>
<link rel="stylesheet" href="${stylesPath}">
<script type="module" src="${scriptPath}"></script>
</head>
<body>
<div id="app"><noscript>The Faultline dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

async function writeAtomically(path: string, contents: Buffer): Promise<void> {
  const partial = `${path}.partial-${randomUUID()}`;
  await writeFile(partial, contents);
  await rename(partial, path);
}

// `tsx shared/dashboard/build.ts [outDir]`: the CDK bundling and `npm run build:dashboard` call it so.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const built = await buildDashboard(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(
    `dashboard built into ${built.outDir}: ${built.files.map((file) => `${file.path} ${file.gzipBytes} B gzip`).join(', ')}`,
  );
}
