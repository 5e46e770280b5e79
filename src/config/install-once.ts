/**
 * Installing a tool into ADO's cache once, however many processes ask at the same time (test
 * files in parallel, a CI warm-up in the background): the first takes a lock file beside the
 * target and installs into a staging folder that is renamed into place; the others wait for it
 * and use its result. A lock left by a dead process is taken over.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface InstallOnceOptions {
  /** The folder the tool lives in once installed. */
  target: string;
  /** True when `target` holds a complete install. */
  isInstalled: () => Promise<boolean>;
  /** Installs into `staging` (a fresh folder path that does not exist yet). */
  install: (staging: string) => Promise<void>;
  /** How long to wait for another process's install. */
  waitMs?: number;
}

export async function installOnce(options: InstallOnceOptions): Promise<void> {
  const { target, isInstalled } = options;
  const lock = `${target}.lock`;
  const deadline = Date.now() + (options.waitMs ?? 20 * 60_000);
  await fs.mkdir(path.dirname(target), { recursive: true });
  for (;;) {
    if (await isInstalled()) return;
    if (await takeLock(lock)) break;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for another process installing into ${target} (lock ${lock}).`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    if (await isInstalled()) return;
    await options.install(staging);
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(staging, target);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
    await fs.rm(lock, { force: true });
  }
}

/**
 * A lock file without a pid (its creator has opened it but not yet written) counts as held for
 * this long after it was last written; older, its creator died before writing.
 */
const EMPTY_LOCK_GRACE_MS = 5_000;

/** Creates the lock file; false while another live process holds it. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (await lockHeld(lock)) return false;
  // Its holder died: take it over (the caller tries again).
  await fs.rm(lock, { force: true });
  return false;
}

/** Whether the lock's holder may still be working: a live pid, or a pid not written yet. */
async function lockHeld(lock: string): Promise<boolean> {
  let text: string;
  let modifiedMs: number;
  try {
    [text, { mtimeMs: modifiedMs }] = await Promise.all([fs.readFile(lock, 'utf8'), fs.stat(lock)]);
  } catch (err) {
    // Gone already: released, or taken over by another waiter; the next try sees.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const holder = /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
  if (holder !== undefined && holder > 0) return isAlive(holder);
  return Date.now() - modifiedMs < EMPTY_LOCK_GRACE_MS;
}

/** Whether process `pid` exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
