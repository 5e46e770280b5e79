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

/** Creates the lock file; false while another live process holds it. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number(await fs.readFile(lock, 'utf8').catch(() => ''));
  if (holder && isAlive(holder)) return false;
  // Its holder died (or the file is unreadable half-written): take it over.
  await fs.rm(lock, { force: true });
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
