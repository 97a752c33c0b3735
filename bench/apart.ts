// Runs a measurement in a process of its own. Handlers build their AWS clients when first imported,
// from that moment's environment, as a cold start does: once one measurement has loaded them against
// its emulators, another in the same process (a local stack of its own) would send to stopped ones.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Names the measurement a child process is started for. */
const CHILD_VARIABLE = 'FAULTLINE_BENCH_APART';
const resultMark = (name: string) => `${name}-result: `;

/** Runs `moduleUrl` (a bench module that calls `measureIfChild(name, …)`) in a child and returns its result. */
export async function measureApart<T>(
  name: string,
  moduleUrl: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<T> {
  const child = await promisify(execFile)(process.execPath, [...process.execArgv, fileURLToPath(moduleUrl)], {
    env: { ...process.env, ...options.env, [CHILD_VARIABLE]: name },
    maxBuffer: 256 * 1024 * 1024,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`the ${name} bench failed: ${error.stderr?.slice(-2_000) ?? error}`);
  });
  const line = child.stdout.split('\n').find((each) => each.startsWith(resultMark(name)));
  if (!line) throw new Error(`the ${name} bench printed no result`);
  return JSON.parse(line.slice(resultMark(name).length)) as T;
}

/** In the child `measureApart` started for `name`: measures, and prints the result for the parent. */
export async function measureIfChild<T>(name: string, measure: () => Promise<T>): Promise<void> {
  if (process.env[CHILD_VARIABLE] !== name) return;
  const result = await measure();
  console.log(`${resultMark(name)}${JSON.stringify(result)}`);
}
