/**
 * A lock file that keeps a PGlite data directory to one store at a time. PGlite runs PostgreSQL
 * in process and does not guard its files: two processes on one directory each open it, and
 * writes are silently lost. The lock names its holder (host, pid); a holder that is gone
 * (a crashed worker) is detected on the same host and its lock taken over.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { type AdoError, FailureType, nonRetryable } from '../domain/errors';

interface LockOwner {
  host: string;
  pid: number;
  token: string;
}

/** Releases the lock (only if this holder still owns it). */
export type ReleaseLock = () => Promise<void>;

/** Takes the lock at `lockPath` for this process; throws `StoreLocked` when someone else holds it. */
export async function acquireDataDirLock(lockPath: string, dataDir: string): Promise<ReleaseLock> {
  const me: LockOwner = { host: os.hostname(), pid: process.pid, token: randomUUID() };
  // A few rounds: each failure to link means someone else moved the lock in between.
  for (let round = 0; round < 5; round++) {
    if (await tryCreate(lockPath, me)) return () => releaseIfOwned(lockPath, me.token);
    const holder = await readOwner(lockPath);
    if (holder === undefined) continue; // released meanwhile
    if (holder === null || isAlive(holder)) throw lockedError(lockPath, dataDir, holder);
    await removeStale(lockPath, holder);
  }
  throw lockedError(lockPath, dataDir, await readOwner(lockPath));
}

/** Writes the whole file first, then links it into place: readers never see a half-written lock. */
async function tryCreate(lockPath: string, me: LockOwner): Promise<boolean> {
  const temp = `${lockPath}.${me.token}`;
  await fs.writeFile(temp, JSON.stringify(me));
  try {
    await fs.link(temp, lockPath);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * The owner recorded in the lock; `undefined` when there is no lock, `null` when it cannot be
 * read (not written by ADO): treated as held, for a person to look at.
 */
async function readOwner(lockPath: string): Promise<LockOwner | null | undefined> {
  let text: string;
  try {
    text = await fs.readFile(lockPath, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.host === 'string' && typeof owner.pid === 'number' && typeof owner.token === 'string'
      ? { host: owner.host, pid: owner.pid, token: owner.token }
      : null;
  } catch {
    return null;
  }
}

/** A holder on another host counts as alive: only a person can tell. */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

/**
 * Moves a dead holder's lock aside. If another process took it over in the meantime and wrote
 * its own, that live lock is put back rather than stolen.
 */
async function removeStale(lockPath: string, stale: LockOwner): Promise<void> {
  const aside = `${lockPath}.stale-${randomUUID()}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  const moved = await readOwner(aside);
  if (moved?.token !== stale.token) {
    await fs.link(aside, lockPath).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
  }
  await fs.rm(aside, { force: true });
}

async function releaseIfOwned(lockPath: string, token: string): Promise<void> {
  const owner = await readOwner(lockPath);
  if (owner?.token === token) await fs.rm(lockPath, { force: true });
}

function lockedError(lockPath: string, dataDir: string, holder: LockOwner | null | undefined): AdoError {
  const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
  return nonRetryable(
    FailureType.StoreLocked,
    `The ADO store in ${dataDir} is already open by ${who} (lock file ${lockPath}). ` +
      'The embedded store (PGlite) serves one process at a time: stop that process, or share a PostgreSQL ' +
      'server between processes by setting ADO_DATABASE_URL. If no such process is running, delete the lock file.',
  );
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}
