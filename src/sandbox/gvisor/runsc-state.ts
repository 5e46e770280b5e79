/**
 * Where a worker keeps its gVisor sandboxes, and how nothing is left behind when it dies.
 *
 * runsc records each sandbox under a state root, and a sandbox holds a cgroup and (for a
 * long-lived one) processes. Each ADO process gets a folder of its own, named by its pid, under
 * one base folder: runsc's state root, the sandboxes' root file system and their bundles. A worker
 * never touches another live worker's sandboxes; a folder whose process is gone (a worker that
 * crashed or was killed) is reaped by the next ADO process that opens the base: each of its
 * sandboxes deleted with `runsc delete --force` (processes killed, cgroup removed), any runsc
 * process still naming the folder killed, what runsc mounted there unmounted, then the folder
 * removed.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../../config/install-once';
import type { Logger } from '../../telemetry/logger';

const run = promisify(execFile);

/** The default base folder (root-only: its state lets whoever reads it drive the sandboxes). */
export function defaultStateBase(): string {
  return path.join(os.tmpdir(), 'ado-runsc');
}

/** This process's folder of sandboxes. */
export class RunscState {
  private constructor(
    private readonly runsc: string,
    /** This process's folder. */
    readonly folder: string,
  ) {}

  /** runsc's `--root` for this process's sandboxes. */
  get root(): string {
    return path.join(this.folder, 'state');
  }

  /** The folder of one sandbox's bundle (its config.json). */
  bundle(id: string): string {
    return path.join(this.folder, 'bundles', id);
  }

  /**
   * Reaps what dead processes left under `base`, then makes this process's folder (a stale one
   * with this pid, from a process that died before, is reaped first).
   */
  static async open(runsc: string, base: string = defaultStateBase(), logger?: Logger): Promise<RunscState> {
    await mkdir(base, { recursive: true, mode: 0o700 });
    for (const entry of await readdir(base)) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid !== process.pid && isAlive(pid)) continue;
      try {
        const reaped = await reapFolder(runsc, path.join(base, entry));
        if (reaped.length > 0) logger?.warn({ folder: path.join(base, entry), sandboxes: reaped }, 'reaped gVisor sandboxes a dead worker left behind');
      } catch (err) {
        // Left for the next worker to try again; this one's sandboxes do not depend on it.
        logger?.warn({ folder: path.join(base, entry), err }, 'could not reap the gVisor sandboxes of a dead worker');
      }
    }
    const folder = path.join(base, String(process.pid));
    await mkdir(path.join(folder, 'state'), { recursive: true, mode: 0o700 });
    await mkdir(path.join(folder, 'bundles'), { recursive: true, mode: 0o700 });
    return new RunscState(runsc, folder);
  }

  /** Stops sandbox `id` whatever its state (processes killed, cgroup removed) and forgets it. */
  async delete(id: string): Promise<void> {
    await deleteSandbox(this.runsc, this.root, id);
    await rm(this.bundle(id), { recursive: true, force: true });
  }
}

async function deleteSandbox(runsc: string, root: string, id: string): Promise<void> {
  try {
    await run(runsc, [`--root=${root}`, 'delete', '--force', id], { env: {} });
  } catch {
    // Never created, or gone already: nothing to stop.
  }
}

/** Deletes every sandbox recorded in `folder`, then the folder; returns their ids. */
async function reapFolder(runsc: string, folder: string): Promise<string[]> {
  const root = path.join(folder, 'state');
  let ids: string[] = [];
  try {
    const { stdout } = await run(runsc, [`--root=${root}`, 'list', '--quiet'], { env: {} });
    ids = stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  } catch {
    // No state root (a folder that never held a sandbox): only the folder to remove.
  }
  for (const id of ids) await deleteSandbox(runsc, root, id);
  // Sandboxes whose state was lost (a folder half removed) are found by their command line.
  for (const pid of await processesWith(`--root=${root}`)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  // runsc keeps the gofers' empty network namespace mounted in its state root.
  for (const mountPoint of await mountsUnder(folder)) await run('umount', ['--lazy', mountPoint]).catch(() => undefined);
  await rm(folder, { recursive: true, force: true });
  return ids;
}

/** Pids of the processes whose command line has `argument` as one of its arguments. */
async function processesWith(argument: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').includes(argument)) pids.push(Number(entry));
  }
  return pids;
}

/** Mount points at or below `folder`, deepest first (from /proc/self/mountinfo; octal escapes decoded). */
async function mountsUnder(folder: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const points = table
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point): point is string => point !== undefined && (point === folder || point.startsWith(`${folder}/`)));
  return points.sort((a, b) => b.length - a.length);
}
