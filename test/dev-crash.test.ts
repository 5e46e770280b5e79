/**
 * `ado dev` killed for real: a SIGKILL leaves no Temporal server behind and a restart on the same
 * ADO home and ports comes up; a Ctrl-C while it is still starting stops everything started so
 * far; a server left by an earlier process on the same database is stopped before a new start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adoPaths } from '../src/config/paths';
import { ADO_SEARCH_ATTRIBUTES } from '../src/domain/search-attributes';
import { locateBinary, TEMPORAL_CLI } from '../src/temporal/binaries';
import { devServerArgs, startDevServer } from '../src/temporal/dev-server';
import { freePort, isPortFree } from '../src/temporal/ports';
import { waitFor } from './helpers/workflow';

const ROOT = path.resolve(__dirname, '..');
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Dev {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `ado dev` in a process of its own, as a user starts it. */
function dev(home: string, port: number, uiPort: number, ...args: string[]): Dev {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'dev', '--port', String(port), '--ui-port', String(uiPort), ...args], {
    cwd: ROOT,
    env: { ...process.env, ADO_HOME: home, ADO_API_PORT: '0', ADO_LOG_LEVEL: 'error', ADO_DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(d: Dev, text: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => (d.output().includes(text) || d.child.exitCode !== null ? true : undefined), `"${text}" from ado dev`, timeoutMs);
  if (!d.output().includes(text)) throw new Error(`ado dev exited (${d.child.exitCode}) without printing "${text}":\n${d.output()}`);
}

/** Processes whose command line names `file` (the dev server runs with its database's path). */
function processesUsing(file: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

describe('ado dev, killed', () => {
  it('SIGKILL leaves no orphan Temporal server; a restart on the same home and ports comes up; Ctrl-C stops it', { timeout: 400_000 }, async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ado-dev-crash-'));
    const { temporalDb, temporalPidFile } = adoPaths(home);
    const [port, uiPort] = [await freePort(), await freePort()];

    const first = dev(home, port, uiPort);
    await until(first, 'ADO is running.');
    const serverPid = Number(readFileSync(temporalPidFile, 'utf8'));
    expect(processesUsing(temporalDb)).toEqual([serverPid]);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(async () => (processesUsing(temporalDb).length === 0 ? true : undefined), 'the server to die with ado dev');

    // Restarted without workers this time: it says what separate workers need.
    const second = dev(home, port, uiPort, '--no-worker');
    await until(second, 'ADO is running.');
    expect(second.output()).toContain('Set ADO_DATABASE_URL (PostgreSQL) for `ado dev --no-worker` and for each `ado worker`.');
    expect(processesUsing(temporalDb)).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(processesUsing(temporalDb)).toEqual([]);
    expect(existsSync(temporalPidFile)).toBe(false);
  });

  it('Ctrl-C while it starts stops everything started so far', { timeout: 200_000 }, async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ado-dev-sigint-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    const d = dev(home, port, uiPort);
    await until(d, 'Starting the Temporal dev server');
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
    expect(d.output()).toContain('Stopped while starting; everything started so far has been stopped.');
    expect(d.output()).not.toContain('ADO is running.');
    expect(processesUsing(adoPaths(home).temporalDb)).toEqual([]);
    expect(await isPortFree(port)).toBe(true);
  });

  it('a server an earlier process left on the same database is stopped before a new one starts', { timeout: 200_000 }, async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ado-dev-leftover-'));
    const { temporalDb, temporalPidFile } = adoPaths(home);
    const binary = await locateBinary(TEMPORAL_CLI);
    const options = { binary, dbFile: temporalDb, port: await freePort(), uiPort: false as const, namespace: 'default', searchAttributes: ADO_SEARCH_ATTRIBUTES };
    // Started the way an older ADO did: no parent-death signal, so it outlives its parent.
    const leftover = spawn(binary, devServerArgs(options), { stdio: 'ignore', detached: true });
    started.push(leftover);
    await waitFor(async () => ((await isPortFree(options.port)) ? undefined : true), 'the leftover server to listen');
    writeFileSync(temporalPidFile, `${leftover.pid}\n`);

    const server = await startDevServer({ ...options, pidFile: temporalPidFile });
    try {
      expect(leftover.exitCode !== null || leftover.signalCode !== null).toBe(true);
      expect(processesUsing(temporalDb)).toEqual([server.pid]);
    } finally {
      await server.stop();
    }
  });
});
