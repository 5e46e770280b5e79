import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gvisorAvailable, tempWorkspace } from '../../../test/sandbox/helpers';
import { createSandbox } from '../index';
import { locateRunsc } from './runsc-binary';
import { RunscState } from './runsc-state';

const execFileAsync = promisify(execFile);

/** Commands of processes running under gVisor are not host processes: their sandbox's runsc-sandbox is. */
async function sandboxProcessesUnder(folder: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((line) => line.startsWith('runsc-sandbox') && line.includes(folder));
}

async function tempStateBase(): Promise<string> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'ado-runsc-test-'));
  onTestFinished(async () => {
    await RunscState.open(await locateRunsc({ install: false }), base); // reaps what a failed test left
    await rm(base, { recursive: true, force: true });
  });
  return base;
}

describe.runIf(gvisorAvailable())('gVisor sandbox', () => {
  const sandbox = createSandbox({ backend: 'gvisor' });

  it('runs as nobody in a kernel of its own, with the workspace its only writable place', async () => {
    const workdir = await tempWorkspace({ 'in.txt': 'from the host\n' });
    const result = await sandbox.run({ command: 'uname -r; id -u; cat in.txt; echo out > out.txt; touch /usr/x /x 2>&1 | wc -l; ls /root 2>&1', workdir });
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 2 });
    expect(result.output).toMatch(/^4\.\d+\.\d+-gvisor\n65534\nfrom the host\n2\nls: cannot access '\/root': No such file or directory\n$/);
    expect(existsSync(path.join(workdir, 'out.txt'))).toBe(true);
  });

  it('a session runs later commands in the same sandbox, kills what each leaves behind, and stays usable after a kill', async () => {
    const workdir = await tempWorkspace();
    const session = await sandbox.openSession?.(workdir);
    if (session === undefined) throw new Error('the gVisor backend has sessions');
    onTestFinished(() => session.close());
    const first = await session.run({ command: 'echo kept > /tmp/marker; echo file > f; sleep 31337.7 & echo started' });
    expect(first).toMatchObject({ stopReason: 'exit', exitCode: 0, output: 'started\n' });
    // Same sandbox (its /tmp), same workspace, and the background sleep of the first command gone.
    // (The pattern is spelled so that this command's own command line does not match it.)
    const second = await session.run({ command: "cat /tmp/marker f; cat /proc/[0-9]*/cmdline | tr '\\0' ' ' | grep -c '3133[7][.]7' || true" });
    expect(second.output).toBe('kept\nfile\n0\n');
    const killed = await session.run({ command: 'sleep 30', limits: { wallTimeMs: 1000 } });
    expect(killed).toMatchObject({ stopReason: 'timeout', reason: 'killed: wall time 1 s exceeded' });
    // A new sandbox: /tmp is new, the workspace is the same.
    const after = await session.run({ command: 'cat /tmp/marker 2>/dev/null || echo new-sandbox; cat f' });
    expect(after.output).toBe('new-sandbox\nfile\n');
    await session.close();
    await expect(session.run({ command: 'true' })).rejects.toThrow(/session is closed/);
  });

  it("a crashed worker's sandboxes are killed and its state folder removed by the next worker", async () => {
    const base = await tempStateBase();
    const workdir = await tempWorkspace();
    const marker = `31337.${Date.now() % 100000}`;
    const helper = path.resolve(__dirname, '../../../test/sandbox/gvisor-session-host.ts');
    const tsx = path.resolve(__dirname, '../../../node_modules/.bin/tsx');
    const worker = spawn(tsx, [helper, base, workdir, marker], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => void worker.kill('SIGKILL'));
    const ready = await new Promise<string>((resolve) => worker.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString())));
    const pid = Number(/^READY (\d+)$/.exec(ready.trim())?.[1]);
    expect(pid).toBeGreaterThan(0);
    const folder = path.join(base, String(pid));
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    // The detached session sandbox outlives its worker…
    expect(await sandboxProcessesUnder(folder)).not.toEqual([]);
    // …until the next worker opens the same base.
    const next = await RunscState.open(await locateRunsc({ install: false }), base);
    expect(await sandboxProcessesUnder(folder)).toEqual([]);
    expect(await readdir(base)).toEqual([String(process.pid)]);
    expect(next.folder).toBe(path.join(base, String(process.pid)));
  });
});
