/**
 * The sandbox escape suite: each test tries one way out of the bubblewrap sandbox, asserts it was
 * contained, that the run reports why it stopped, and that the host is unaffected.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ALLOCATE_FOREVER, connectCommand, hostListener, hostProcessesWith, tempWorkspace } from '../../test/sandbox/helpers';
import { createSandbox } from './index';

const execFileAsync = promisify(execFile);
const sandbox = createSandbox({ backend: 'bubblewrap' });
const isRoot = process.getuid?.() === 0;
const secret = `ado-secret-${randomBytes(8).toString('hex')}`;

/** A host file outside any workspace, removed after the test. */
async function hostFile(folder: string, content: string): Promise<string> {
  const file = path.join(folder, `.ado-escape-${randomBytes(6).toString('hex')}`);
  await writeFile(file, content);
  onTestFinished(() => rm(file, { force: true }));
  return file;
}

describe('bubblewrap sandbox escape attempts', () => {
  beforeAll(() => {
    process.env.ADO_ESCAPE_TEST_SECRET = secret;
  });
  afterAll(() => {
    delete process.env.ADO_ESCAPE_TEST_SECRET;
  });

  it('cannot connect to a listener on the host loopback', async () => {
    const workdir = await tempWorkspace();
    const listener = await hostListener();
    const result = await sandbox.run({ command: connectCommand('127.0.0.1', listener.port), workdir });
    expect(result.output).toMatch(/^BLOCKED ECONNREFUSED/);
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 3 });
    expect(listener.connections()).toBe(0);
  });

  it('cannot reach a public address', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({ command: connectCommand('1.1.1.1', 443), workdir });
    // Only the sandbox's own loopback exists: no route anywhere else.
    expect(result.output).toMatch(/^BLOCKED ENETUNREACH/);
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 3 });
  });

  it('cannot read files under /root or the home folder, nor the worker environment', async () => {
    const workdir = await tempWorkspace();
    const secretFiles = [await hostFile(os.homedir(), secret), await hostFile(os.tmpdir(), secret)];
    if (isRoot && os.homedir() !== '/root') secretFiles.push(await hostFile('/root', secret));
    const command = [
      ...secretFiles.map((file) => `cat ${file}`),
      `ls -la /root ${os.homedir()}`,
      'env',
      "for f in /proc/1/environ /proc/$PPID/environ /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
      'echo visible-processes: $(ls -d /proc/[0-9]* | wc -l)',
    ].join('; ');
    const result = await sandbox.run({ command, workdir });
    expect(result.stopReason).toBe('exit');
    expect(result.output).toContain('visible-processes:');
    expect(result.output).not.toContain(secret);
    expect(result.output).not.toContain('ADO_ESCAPE_TEST_SECRET');
    // The pid namespace shows the sandbox's own few processes, none of the host's.
    const visible = Number(/visible-processes: (\d+)/.exec(result.output)?.[1]);
    expect(visible).toBeLessThan(10);
    expect(result.output).not.toContain(String(process.pid) + '/environ');
  });

  it('cannot write outside the workspace', async () => {
    const workdir = await tempWorkspace();
    const victim = await hostFile(os.tmpdir(), 'original');
    const tag = randomBytes(6).toString('hex');
    const attempts = [
      victim,
      `/usr/ado-escape-${tag}`,
      `/etc/ado-escape-${tag}`,
      `/workspace/../ado-escape-${tag}`,
      path.join(path.dirname(workdir), `ado-escape-${tag}`),
    ];
    const command = `${attempts.map((target) => `echo pwned > ${target}`).join('; ')}; echo attempts-done`;
    const result = await sandbox.run({ command, workdir });
    expect(result.output).toContain('attempts-done');
    expect(result.stopReason).toBe('exit');
    expect(await readFile(victim, 'utf8')).toBe('original');
    for (const hostPath of [`/usr/ado-escape-${tag}`, `/etc/ado-escape-${tag}`, `/ado-escape-${tag}`, attempts[4] as string]) {
      expect(existsSync(hostPath), hostPath).toBe(false);
    }
  });

  it('a fork bomb hits the process limit and the host can still start processes', async () => {
    const workdir = await tempWorkspace();
    const counted = await sandbox.run({
      command: `perl -e 'my $n = 0; while (1) { my $p = fork(); last unless defined $p; if ($p == 0) { sleep 30; exit 0 } $n++ } print "forks refused after $n\\n"'`,
      workdir,
      limits: { maxProcesses: 64 },
    });
    const forked = Number(/forks refused after (\d+)/.exec(counted.output)?.[1]);
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThan(64);
    expect(counted.stopReason).toBe('exit');

    const bomb = await sandbox.run({
      command: 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived',
      workdir,
      limits: { maxProcesses: 64, wallTimeMs: 5000 },
    });
    expect(['exit', 'timeout']).toContain(bomb.stopReason);
    const { stdout } = await execFileAsync('echo', ['host still spawns']);
    expect(stdout).toBe('host still spawns\n');
  });

  it('allocating past the memory limit stops the run with stop reason memory', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({
      command: ALLOCATE_FOREVER,
      workdir,
      limits: { memoryBytes: 256 * 1024 ** 2 },
    });
    expect(result.stopReason).toBe('memory');
    expect(result.reason).toContain('256 MiB');
    expect(result.output).toContain('allocation failed');
  });

  it('an endless loop is killed at the wall-time limit, with every process it started', async () => {
    const workdir = await tempWorkspace();
    const marker = `31337.${Date.now() % 100000}`;
    const result = await sandbox.run({
      command: `sleep ${marker} & while :; do :; done`,
      workdir,
      limits: { wallTimeMs: 1500 },
    });
    expect(result).toMatchObject({ stopReason: 'timeout', reason: 'killed: wall time 1.5 s exceeded', signal: 'SIGKILL' });
    expect(hostProcessesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it('a CPU-bound run past the CPU limit stops with stop reason cpu', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({ command: 'while :; do :; done', workdir, limits: { cpuTimeSec: 1, wallTimeMs: 60_000 } });
    expect(result).toMatchObject({ stopReason: 'cpu', signal: 'SIGXCPU' });
    expect(result.reason).toContain('CPU time limit of 1 s');
  });

  it('100 MB of output is cut at the cap, the run goes on to its end and says so', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({ command: "head -c 104857600 /dev/zero | tr '\\0' a; echo; echo finished >&2", workdir });
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 0, truncated: true });
    expect(result.output.endsWith('[output truncated after 1048576 bytes]\n')).toBe(true);
    expect(result.output.length).toBeLessThan(1048576 + 100);
    expect(result.output).not.toContain('finished');
  });

  it('cannot push characters into the terminal of the process that started it (TIOCSTI)', async () => {
    const workdir = await tempWorkspace();
    const helper = path.resolve(__dirname, '../../test/sandbox/tiocsti-host.ts');
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    // pty.spawn gives the helper a pseudo-terminal as its controlling terminal, as a worker started from a shell has.
    const { stdout } = await execFileAsync('python3', ['-c', 'import pty, sys; pty.spawn(sys.argv[1:])', tsx, helper, workdir]);
    const report = JSON.parse(/\{.*\}/.exec(stdout)?.[0] ?? '{}') as { hostHasTerminal?: boolean; stopReason?: string; output?: string };
    expect(report.hostHasTerminal).toBe(true);
    expect(report.stopReason).toBe('exit');
    expect(report.output).toMatch(/fd0:\d+ fd1:\d+ fd2:\d+ tty(-open)?:\d+/);
    expect(report.output).not.toContain('INJECTED');
  });

  it('killing its parent or every process it can see leaves the worker and its children alive', async () => {
    const workdir = await tempWorkspace();
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    onTestFinished(() => {
      bystander.kill('SIGKILL');
    });
    const result = await sandbox.run({ command: 'kill -9 $PPID; kill -9 1; kill -9 -1; echo still-here', workdir });
    expect(result.output).toContain('still-here');
    expect(result.stopReason).toBe('exit');
    expect(bystander.exitCode).toBeNull();
    expect(bystander.signalCode).toBeNull();
    expect(() => process.kill(bystander.pid as number, 0)).not.toThrow();
    const after = await sandbox.run({ command: 'echo next run', workdir });
    expect(after.output).toBe('next run\n');
  });
});
