// Runs the `faultline` command as a child process, as users run it, but from one esbuild bundle of the
// CLI made once per test process: `bin/faultline.mjs` compiles the TypeScript through tsx on every
// start (~1.5 s of CPU), which dozens of runs in a suite cannot afford. Each test file still runs
// bin/faultline.mjs itself at least once, so the real entry point stays proven.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

// Two levels under the repository, like shared/cli/: the CLI finds package.json and .faultline/
// relative to its own module.
const bundleDir = join(root, '.faultline', `cli-bundle-${process.pid}`);
let bundled: Promise<string> | undefined;

function bundle(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(bundleDir, { recursive: true });
    process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }));
    const outfile = join(bundleDir, 'main.mjs');
    await build({
      entryPoints: [join(root, 'shared/cli/main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'warning',
      // Bundled CommonJS dependencies may call `require`.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    return outfile;
  })();
  return bundled;
}

export interface CliRun {
  stdout: string;
  stderr: string;
}

/** Runs `faultline …args`; rejects like execFile (with `code`, `stdout`, `stderr`) when it exits non-zero. */
export async function runFaultline(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; entry?: 'bundle' | 'bin' } = {},
): Promise<CliRun> {
  const entry = options.entry === 'bin' ? join(root, 'bin/faultline.mjs') : await bundle();
  return run(process.execPath, [entry, ...args], {
    cwd: options.cwd ?? root,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...(options.env ?? process.env) },
  });
}
