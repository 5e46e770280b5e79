import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { acquireDataDirLock } from './data-dir-lock';
import { openStore } from './open-store';
import type { AdoStore } from './types';

const run = promisify(execFile);

/** The pid of a process that has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('could not start a process to take its pid');
  return pid;
}

function expectLocked(err: unknown, dataDir: string): void {
  expect(err).toBeInstanceOf(AdoError);
  expect(err).toMatchObject({ type: FailureType.StoreLocked, nonRetryable: true });
  const { message } = err as AdoError;
  expect(message).toContain(dataDir);
  expect(message).toContain('ADO_DATABASE_URL');
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-lock-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('the embedded store keeps its data directory to one store at a time', () => {
  let dataDir: string;
  let store: AdoStore | undefined;

  beforeAll(async () => {
    dataDir = path.join(tmp, 'store');
    store = await openStore({ dataDir });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('refuses a second store on the directory in the same process', async () => {
    expectLocked(await openStore({ dataDir }).catch((e: unknown) => e), dataDir);
  });

  it('refuses a store in another process, naming the holder', async () => {
    const script = path.join(tmp, 'open.cjs');
    await fs.writeFile(
      script,
      `require(${JSON.stringify(path.resolve('src/store/open-store.ts'))}).openStore({ dataDir: process.argv[2] }).then(
        () => { console.log('opened'); process.exit(0); },
        (e) => { console.log(JSON.stringify({ type: e.type, message: e.message })); process.exit(3); });`,
    );
    const outcome = await run(process.execPath, ['--import', 'tsx', script, dataDir]).then(
      () => expect.unreachable('the second process opened the store'),
      (err: { code: number; stdout: string }) => err,
    );
    expect(outcome.code).toBe(3);
    const reported = JSON.parse(outcome.stdout) as { type: string; message: string };
    expect(reported.type).toBe(FailureType.StoreLocked);
    expect(reported.message).toContain(`process ${process.pid}`);
  });

  it('frees the directory on close, and takes over the lock of a process that died', async () => {
    await store?.close();
    store = undefined;
    await expect(fs.access(`${dataDir}.lock`)).rejects.toThrow();

    await fs.writeFile(`${dataDir}.lock`, JSON.stringify({ host: os.hostname(), pid: deadPid(), token: randomUUID() }));
    store = await openStore({ dataDir });
    expect(JSON.parse(await fs.readFile(`${dataDir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
  });
});

describe('acquireDataDirLock', () => {
  it.each([
    ['a free lock', undefined],
    ['a dead holder’s lock', () => JSON.stringify({ host: os.hostname(), pid: deadPid(), token: randomUUID() })],
  ])('gives %s to exactly one of several simultaneous takers', async (_what, stale) => {
    const lockPath = path.join(tmp, `${randomUUID()}.lock`);
    if (stale) await fs.writeFile(lockPath, stale());
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => acquireDataDirLock(lockPath, 'dir')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expectLocked(o.reason, 'dir');
  });

  it('lets the next holder in once the lock is released', async () => {
    const lockPath = path.join(tmp, `${randomUUID()}.lock`);
    const release = await acquireDataDirLock(lockPath, 'dir');
    await release();
    const releaseNext = await acquireDataDirLock(lockPath, 'dir');
    await release(); // a stale release must not free the new holder's lock
    expectLocked(await acquireDataDirLock(lockPath, 'dir').catch((e: unknown) => e), 'dir');
    await releaseNext();
  });

  it.each([
    ['a holder on another host', () => JSON.stringify({ host: `not-${os.hostname()}`, pid: deadPid(), token: 't' })],
    ['a lock file ADO did not write', () => 'garbage'],
  ])('leaves %s alone for a person to judge', async (_what, content) => {
    const lockPath = path.join(tmp, `${randomUUID()}.lock`);
    const written = content();
    await fs.writeFile(lockPath, written);
    expectLocked(await acquireDataDirLock(lockPath, 'dir').catch((e: unknown) => e), 'dir');
    expect(await fs.readFile(lockPath, 'utf8')).toBe(written);
  });
});
