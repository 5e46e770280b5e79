/**
 * Runs one sandboxed process to its end, whichever backend built its command line: collects
 * output under the cap, enforces the wall-time limit, honours cancellation, reports progress,
 * and classifies how it ended.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { watchDisk, type DiskWatch } from './disk-watch';
import { OutputCollector } from './output';
import { classifyEnding, type RunEnding } from './stop-reason';
import type { SandboxLimits, SandboxRunOptions, SandboxRunResult } from './types';

export interface SupervisedCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (needs root); the child also drops supplementary groups. */
  uid?: number;
  gid?: number;
  /**
   * Open a pipe at fd 3 (bwrap `--sync-fd 3`, see bubblewrap-args.ts): every sandboxed process inherits it, so its end
   * means the whole tree is gone and the workspace can be touched again.
   */
  syncPipe?: boolean;
  /** Start a new process group and kill the whole group (the process backend has no pid namespace). */
  processGroup?: boolean;
  /** The folder the run writes to on the host: stopped when it grows past `limits.diskBytes`. */
  writableDir?: string;
  /**
   * Open a pipe at fd 4 (bwrap `--block-fd 4`): the sandbox waits for it before it runs the command,
   * so the writable folder is measured while bwrap builds its namespaces, not before it starts.
   */
  blockPipe?: boolean;
}

const PROGRESS_INTERVAL_MS = 1000;
/** After the main process ends, how long leftover holders of its pipes may keep them open. */
const PIPE_GRACE_MS = 2000;
/** How long a killed process group may take to disappear before the run is reported anyway. */
const GROUP_EXIT_WAIT_MS = 1000;

/** Spawns `command`, waits for its end and reports it as a `SandboxRunResult`. */
export async function supervise(
  command: SupervisedCommand,
  limits: SandboxLimits,
  options: SandboxRunOptions = {},
): Promise<SandboxRunResult> {
  const started = performance.now();
  const output = new OutputCollector(limits.maxOutputBytes);
  const finish = (ending: Omit<RunEnding, 'outputTail' | 'limits'>): SandboxRunResult => ({
    ...classifyEnding({ ...ending, outputTail: output.tail(), limits }),
    output: output.text(),
    truncated: output.truncated,
    durationMs: Math.round(performance.now() - started),
  });
  if (options.signal?.aborted) return finish({ exitCode: null, signal: null, killedFor: 'cancelled' });
  // Measured before the command starts (at once, or while bwrap sets up), so that its writes are what counts.
  let stopForDisk: () => void = () => undefined;
  const watching = command.writableDir === undefined ? undefined : watchDisk(command.writableDir, limits.diskBytes, () => stopForDisk());
  watching?.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
  if (command.blockPipe !== true) await watching;

  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', command.syncPipe ? 'pipe' : 'ignore', command.blockPipe ? 'pipe' : 'ignore'];
  const child = spawn(command.file, command.args, {
    env: command.env,
    cwd: command.cwd,
    uid: command.uid,
    gid: command.gid,
    stdio,
    detached: command.processGroup === true,
  });
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawnError !== undefined) {
    (await watching?.catch(() => undefined))?.stop();
    return {
      ...finish({ exitCode: null, signal: null }),
      stopReason: 'spawn-error',
      reason: `the sandbox could not start ${command.file}: ${spawnError.message}`,
    };
  }

  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  // The sync pipe carries no data; reading it is how its end is noticed.
  child.stdio[3]?.on('data', () => undefined);

  let killedFor: RunEnding['killedFor'];
  const killTree = () => killProcessTree(child, command.processGroup === true);
  const stopFor = (why: NonNullable<RunEnding['killedFor']>) => {
    killedFor ??= why;
    killTree();
  };
  stopForDisk = () => stopFor('disk');
  const wallTimer = setTimeout(() => stopFor('timeout'), limits.wallTimeMs);
  const progressTimer = options.onProgress ? setInterval(options.onProgress, PROGRESS_INTERVAL_MS) : undefined;
  const onAbort = () => stopFor('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let graceTimer: NodeJS.Timeout | undefined;
  child.once('exit', () => {
    clearTimeout(wallTimer);
    // Background processes die with the command, as they do when a pid namespace ends.
    if (command.processGroup === true) killTree();
    graceTimer = setTimeout(() => {
      for (const stream of child.stdio) stream?.destroy();
    }, PIPE_GRACE_MS);
  });

  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  let disk: DiskWatch | undefined;
  try {
    try {
      disk = await watching;
    } catch (error) {
      killTree();
      await closed;
      throw error;
    }
    // The command may start now (bwrap reads one byte; it may be gone already when setup failed).
    const block = child.stdio[4] as Writable | null;
    block?.on('error', () => undefined);
    block?.end('go');
    const [exitCode, signal] = await closed;
    // bwrap's sync pipe already proved the tree gone; a process group is only sent SIGKILL.
    if (command.processGroup === true && child.pid !== undefined) await groupGone(child.pid);
    return finish({ exitCode, signal, killedFor });
  } finally {
    disk?.stop();
    clearTimeout(wallTimer);
    clearTimeout(graceTimer);
    clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Waits until no process of group `pgid` is left (or a moment passed), so the caller may clean up after it. */
async function groupGone(pgid: number): Promise<void> {
  for (let waited = 0; waited < GROUP_EXIT_WAIT_MS; waited += 10) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(10);
  }
}

function killProcessTree(child: ChildProcess, processGroup: boolean): void {
  if (child.pid === undefined) return;
  try {
    // Under bwrap, killing bwrap is enough: --die-with-parent takes the pid namespace down.
    if (processGroup) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch (error) {
    // Already gone: nothing left to kill.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
