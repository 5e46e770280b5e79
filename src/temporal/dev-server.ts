/**
 * The embedded Temporal server: the real server inside the Temporal CLI (`temporal server
 * start-dev`), persisting to a SQLite file so tasks survive a restart, with ADO's search
 * attributes registered and the Web UI on its port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { FailureType, nonRetryable } from '../domain/errors';
import { isPortFree } from './ports';

export interface DevServerOptions {
  /** The Temporal CLI binary (see `locateBinary(TEMPORAL_CLI)`). */
  binary: string;
  /** SQLite file; tasks survive restarts of the server on the same file. */
  dbFile: string;
  ip?: string;
  port: number;
  /** Web UI port; `false` runs headless. */
  uiPort: number | false;
  namespace: string;
  searchAttributes: ReadonlyArray<{ name: string; type: string }>;
  /** Remote codec endpoint the Web UI decodes payloads with. */
  uiCodecEndpoint?: string;
  /** Server output goes here (it is noisy); default: next to the database file. */
  logFile?: string;
  /** How long to wait for the server to answer. */
  startTimeoutMs?: number;
  /**
   * Where the server's pid is kept while it runs. A server that an earlier process started on
   * the same database and could not stop (it was killed) is stopped before this one starts.
   */
  pidFile?: string;
  /** Aborting stops waiting for the server to answer, and stops the server. */
  signal?: AbortSignal;
}

export interface DevServer {
  /** gRPC address for clients and workers (`host:port`). */
  address: string;
  uiUrl?: string;
  namespace: string;
  pid: number;
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Resolves when the server process exits, for whatever reason. */
  exited: Promise<number | null>;
}

/** SDK search attribute types → the CLI's names for them. */
const SEARCH_ATTRIBUTE_TYPES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/**
 * The dev server's dynamic config that takes out its per-dispatch wait. Its single history shard
 * reads the transfer queue at most `transferProcessorMaxPollRPS` (default 20) times a second, so
 * every workflow and activity task waited 40–45 ms between "scheduled" and "started"; at 1,000 the
 * wait is gone (measured with `npm run bench -- --only overhead`, figures in the README).
 */
export const FAST_DISPATCH_ARGS: readonly string[] = ['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000'];

/**
 * SQLite settings for the dev server's database file: write-ahead logging with `synchronous=normal`
 * commits without an fsync per transaction. A crash of the process loses nothing; a power cut may
 * lose the last commits, an accepted trade for the embedded one-machine stack (production runs a
 * Temporal cluster).
 */
export const SQLITE_FILE_ARGS: readonly string[] = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];

/** The `temporal server start-dev` arguments for `options` (pure, for reading and testing). */
export function devServerArgs(options: DevServerOptions): string[] {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--db-filename', options.dbFile, '--ip', ip, '--port', String(options.port)];
  if (options.uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const key of options.searchAttributes) args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPES[key.type] ?? key.type}`);
  args.push(...FAST_DISPATCH_ARGS, ...SQLITE_FILE_ARGS, '--log-level', 'warn');
  return args;
}

/** Starts the dev server and resolves once it answers on its gRPC port. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  if (options.pidFile) await stopLeftover(options.pidFile, options.dbFile);
  await assertPortsFree(options, ip);
  await fs.mkdir(path.dirname(options.dbFile), { recursive: true });
  const logFile = options.logFile ?? path.join(path.dirname(options.dbFile), 'temporal-server.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));

  const [command, args] = dyingWithParent(options.binary, devServerArgs(options));
  const child = spawn(command, args, { stdio: ['ignore', log, log], detached: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pidFile = options.pidFile;
  if (pidFile && child.pid !== undefined) await fs.writeFile(pidFile, `${child.pid}\n`);
  const stop = async () => {
    await stopProcess(child, exited);
    if (pidFile) await fs.rm(pidFile, { force: true });
  };
  const address = `${ip}:${options.port}`;
  try {
    await waitUntilServing(address, child, exited, options.startTimeoutMs ?? 60_000, logFile, options.signal);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort === false ? undefined : `http://${ip}:${options.uiPort}`,
    namespace: options.namespace,
    pid: child.pid!,
    logFile,
    exited,
    stop,
  };
}

/**
 * The command that starts `binary`: on Linux through `setpriv --pdeathsig KILL`, so that the
 * server dies with the process that started it, even when that one is killed with SIGKILL and
 * has no chance to stop it. (The pid file covers systems without setpriv.)
 */
function dyingWithParent(binary: string, args: string[]): [string, string[]] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((candidate) => existsSync(candidate));
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
}

/**
 * Stops the dev server `pidFile` names when it still runs on `dbFile`; a pid reused since by
 * another program is left alone (its command line is read from /proc, so this acts on Linux only).
 */
async function stopLeftover(pidFile: string, dbFile: string): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) {
    const commandLine = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (commandLine.includes('start-dev') && commandLine.includes(dbFile)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  await fs.rm(pidFile, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function assertPortsFree(options: DevServerOptions, ip: string): Promise<void> {
  const taken: string[] = [];
  if (!(await isPortFree(options.port, ip))) taken.push(`gRPC port ${options.port} (change it with --port or ADO_TEMPORAL_PORT)`);
  if (options.uiPort !== false && !(await isPortFree(options.uiPort, ip))) {
    taken.push(`Web UI port ${options.uiPort} (change it with --ui-port or ADO_TEMPORAL_UI_PORT)`);
  }
  if (taken.length) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `Cannot start the Temporal dev server: ${taken.join(' and ')} ${taken.length > 1 ? 'are' : 'is'} already in use on ${ip}. ` +
        'Another `ado dev` or Temporal server may be running; stop it or choose other ports.',
    );
  }
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
  signal?: AbortSignal,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (exitCode !== undefined || child.exitCode !== null) {
      throw nonRetryable(FailureType.InvalidConfig, `The Temporal dev server exited during start (code ${exitCode ?? child.exitCode}). ${await logTail(logFile)}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw nonRetryable(FailureType.InvalidConfig, `The Temporal dev server did not answer on ${address} within ${timeoutMs / 1000} s. ${await logTail(logFile)}`);
}

async function logTail(logFile: string): Promise<string> {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '');
  const tail = text.trim().split('\n').slice(-5).join('\n');
  return tail ? `Last lines of ${logFile}:\n${tail}` : `See ${logFile}.`;
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
