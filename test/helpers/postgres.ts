/**
 * A real PostgreSQL server for tests. With `ADO_TEST_DATABASE_URL` (CI starts one server) each
 * caller gets a fresh database on it, dropped afterwards; otherwise a private server from the
 * Debian binaries (`/usr/lib/postgresql/<version>/bin`) in a temp dir on a free loopback port,
 * stopped and removed afterwards. A server started here dies with the test process.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { StoreConfig } from '../../src/store/config';
import type { AdoStore } from '../../src/store/types';

const run = promisify(execFile);

export interface TestPostgres {
  /** A database of its own: postgres://…/<database>. */
  url: string;
  stop(): Promise<void>;
}

/** A fresh database for one test file (or one test). */
export async function startPostgres(): Promise<TestPostgres> {
  const shared = process.env.ADO_TEST_DATABASE_URL;
  return shared ? createDatabase(shared) : startPrivateServer();
}

async function createDatabase(serverUrl: string): Promise<TestPostgres> {
  const name = `ado_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`create database ${pg.escapeIdentifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    stop: () => withClient(serverUrl, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`)).then(() => {}),
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The newest Debian PostgreSQL install, or a clear error saying how to get one. */
function findBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error('No PostgreSQL server for tests: set ADO_TEST_DATABASE_URL, or `apt-get install postgresql` (binaries under /usr/lib/postgresql/<version>/bin).');
  }
  return path.join(root, newest, 'bin');
}

/** initdb and postgres refuse to run as root: as root, run them as an unprivileged user. */
async function unprivilegedUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('Running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as.');
}

/**
 * `setpriv` drops to the user (when root) and asks the kernel to stop the server (SIGINT: fast
 * shutdown) when the test process dies, so no server outlives its test run.
 */
function asUser(user: { uid: number; gid: number } | undefined, command: string, args: string[]): [string, string[]] {
  const drop = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  return ['setpriv', [...drop, '--pdeathsig', 'SIGINT', command, ...args]];
}

async function startPrivateServer(): Promise<TestPostgres> {
  const bin = findBinaries();
  const user = await unprivilegedUser();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-pg-'));
  if (user) await fs.chown(dir, user.uid, user.gid);
  const dataDir = path.join(dir, 'data');
  try {
    const [initdb, initArgs] = asUser(user, path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'ado', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await run(initdb, initArgs, { cwd: dir });
    const server = await startServer(bin, user, dir, dataDir);
    return {
      url: `postgres://ado@127.0.0.1:${server.port}/postgres`,
      stop: async () => {
        await stopProcess(server.process);
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts postgres on a free port (another try if someone takes the port first) and waits for it. */
async function startServer(bin: string, user: { uid: number; gid: number } | undefined, cwd: string, dataDir: string) {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const settings = ['listen_addresses=127.0.0.1', `port=${port}`, 'unix_socket_directories=', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
    const [command, args] = asUser(user, path.join(bin, 'postgres'), ['-D', dataDir, ...settings.flatMap((s) => ['-c', s])]);
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    try {
      await waitUntilReady(`postgres://ado@127.0.0.1:${port}/postgres`, child, () => stderr);
      return { port, process: child };
    } catch (err) {
      lastError = err;
      await stopProcess(child);
    }
  }
  throw lastError;
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`postgres exited (${code ?? signal}) before accepting connections:\n${stderr()}`))),
  );
  exited.catch(() => {}); // observed below; no unhandled rejection when the server starts fine
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await Promise.race([withClient(url, (c) => c.query('select 1')), exited]);
      return;
    } catch (err) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A loopback port nobody listens on (taken from the OS and given back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server exits at once. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/** An empty store location of either driver, for tests that run against both. */
export interface FreshStoreLocation {
  config: StoreConfig;
  dispose(): Promise<void>;
}

export const STORE_DRIVERS = ['pglite', 'postgres'] as const satisfies readonly AdoStore['driver'][];

/** A new temp directory (PGlite) or a new database (PostgreSQL); `dispose` removes it. */
export async function freshStoreLocation(driver: AdoStore['driver']): Promise<FreshStoreLocation> {
  if (driver === 'postgres') {
    const server = await startPostgres();
    return { config: { databaseUrl: server.url }, dispose: () => server.stop() };
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-store-'));
  return { config: { dataDir: path.join(dir, 'store') }, dispose: () => fs.rm(dir, { recursive: true, force: true }) };
}
