/**
 * The sandbox escape suite: a table of named probes, each trying one way out of the bubblewrap
 * sandbox. A probe prepares the host (`setup`: files, listeners), makes its attempt (`probe`: one
 * or more sandbox runs) and states what must hold (`expectation`): the attempt contained, the run
 * reporting why it stopped, the host unaffected. Escapes through ADO's own host-side work (git,
 * edits, the repository's configuration) are tried through whole tasks in
 * test/e2e/trust-boundary.test.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ALLOCATE_FOREVER,
  connectCommand,
  hostAddress,
  hostListener,
  hostProcessesWith,
  proxyConnectCommand,
  tempWorkspace,
} from '../../test/sandbox/helpers';
import { createSandbox, type Sandbox, type SandboxRunResult } from './index';
import { DEFAULT_SANDBOX_CEILINGS } from './types';

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

/** One attempt to get out: what it prepares on the host, what it runs, what must hold after. */
interface EscapeProbe<Fixture, Outcome> {
  name: string;
  setup: (workdir: string) => Promise<Fixture>;
  probe: (run: Sandbox['run'], workdir: string, fixture: Fixture) => Promise<Outcome>;
  expectation: (outcome: Outcome, fixture: Fixture) => Promise<void> | void;
}

/** Checks a probe's types where it is written; the table holds them as one type. */
function probe<Fixture, Outcome>(entry: EscapeProbe<Fixture, Outcome>): EscapeProbe<unknown, unknown> {
  return entry as EscapeProbe<unknown, unknown>;
}

const nothing = async () => undefined;

/** `sandbox.run` of `command` with network through the egress proxy, and generous time for it. */
const withNetwork = (run: Sandbox['run'], workdir: string, command: string) => run({ command, workdir, network: true, limits: { wallTimeMs: 60_000 } });

const PROBES = [
  probe({
    name: 'cannot connect to a listener on the host loopback',
    setup: () => hostListener(),
    probe: (run, workdir, listener) => run({ command: connectCommand('127.0.0.1', listener.port), workdir }),
    expectation: (result, listener) => {
      expect(result.output).toMatch(/^BLOCKED ECONNREFUSED/);
      expect(result).toMatchObject({ stopReason: 'exit', exitCode: 3 });
      expect(listener.connections()).toBe(0);
    },
  }),
  probe({
    name: 'cannot reach a public address',
    setup: nothing,
    probe: (run, workdir) => run({ command: connectCommand('1.1.1.1', 443), workdir }),
    // Only the sandbox's own loopback exists: no route anywhere else.
    expectation: (result) => {
      expect(result.output).toMatch(/^BLOCKED ENETUNREACH/);
      expect(result).toMatchObject({ stopReason: 'exit', exitCode: 3 });
    },
  }),
  probe({
    name: 'with network, cannot reach the host loopback: not directly, not through the egress proxy by address or by name',
    setup: () => hostListener(),
    probe: (run, workdir, listener) =>
      withNetwork(
        run,
        workdir,
        [connectCommand('127.0.0.1', listener.port), proxyConnectCommand('127.0.0.1', listener.port), proxyConnectCommand('localhost', listener.port), proxyConnectCommand('::1', listener.port)].join('; '),
      ),
    expectation: (result, listener) => {
      expect(result.output.split('\n').filter(Boolean)).toEqual(['BLOCKED ECONNREFUSED', 'PROXY 403', 'PROXY 403', 'PROXY 403']);
      expect(listener.connections()).toBe(0);
    },
  }),
  probe({
    name: "with network, cannot reach services on the host's own non-loopback address",
    setup: () => hostListener('0.0.0.0'),
    probe: (run, workdir, listener) => withNetwork(run, workdir, `${connectCommand(hostAddress(), listener.port)}; ${proxyConnectCommand(hostAddress(), listener.port)}`),
    expectation: (result, listener) => {
      expect(result.output.split('\n').filter(Boolean)).toEqual(['BLOCKED ENETUNREACH', 'PROXY 403']);
      expect(listener.connections()).toBe(0);
    },
  }),
  probe({
    name: 'with network, cannot reach the cloud metadata address, other hosts, or plain HTTP through the proxy',
    setup: nothing,
    probe: (run, workdir) =>
      withNetwork(
        run,
        workdir,
        [
          connectCommand('169.254.169.254', 80),
          proxyConnectCommand('169.254.169.254', 80),
          proxyConnectCommand('example.com', 443),
          proxyConnectCommand('registry.npmjs.org', 22),
          `echo "PLAIN $(curl -s -o /dev/null -m 10 -w '%{http_code}' -x http://127.0.0.1:3128 http://registry.npmjs.org/)"`,
        ].join('; '),
      ),
    expectation: (result) => {
      expect(result.output.split('\n').filter(Boolean)).toEqual(['BLOCKED ENETUNREACH', 'PROXY 403', 'PROXY 403', 'PROXY 403', 'PLAIN 403']);
    },
  }),
  probe({
    name: 'cannot read files under /root or the home folder, nor the worker environment',
    setup: async () => {
      const files = [await hostFile(os.homedir(), secret), await hostFile(os.tmpdir(), secret)];
      if (isRoot && os.homedir() !== '/root') files.push(await hostFile('/root', secret));
      return files;
    },
    probe: (run, workdir, secretFiles) => {
      const command = [
        ...secretFiles.map((file) => `cat ${file}`),
        `ls -la /root ${os.homedir()}`,
        'env',
        "for f in /proc/1/environ /proc/$PPID/environ /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
        'echo visible-processes: $(ls -d /proc/[0-9]* | wc -l)',
      ].join('; ');
      return run({ command, workdir });
    },
    expectation: (result) => {
      expect(result.stopReason).toBe('exit');
      expect(result.output).toContain('visible-processes:');
      expect(result.output).not.toContain(secret);
      expect(result.output).not.toContain('ADO_ESCAPE_TEST_SECRET');
      // The pid namespace shows the sandbox's own few processes, none of the host's.
      const visible = Number(/visible-processes: (\d+)/.exec(result.output)?.[1]);
      expect(visible).toBeLessThan(10);
      expect(result.output).not.toContain(String(process.pid) + '/environ');
    },
  }),
  probe({
    name: 'cannot write outside the workspace',
    setup: async (workdir) => {
      const tag = randomBytes(6).toString('hex');
      return { tag, victim: await hostFile(os.tmpdir(), 'original'), beside: path.join(path.dirname(workdir), `ado-escape-${tag}`) };
    },
    probe: (run, workdir, { tag, victim, beside }) => {
      const attempts = [victim, `/usr/ado-escape-${tag}`, `/etc/ado-escape-${tag}`, `/workspace/../ado-escape-${tag}`, beside];
      return run({ command: `${attempts.map((target) => `echo pwned > ${target}`).join('; ')}; echo attempts-done`, workdir });
    },
    expectation: async (result, { tag, victim, beside }) => {
      expect(result.output).toContain('attempts-done');
      expect(result.stopReason).toBe('exit');
      expect(await readFile(victim, 'utf8')).toBe('original');
      for (const hostPath of [`/usr/ado-escape-${tag}`, `/etc/ado-escape-${tag}`, `/ado-escape-${tag}`, beside]) {
        expect(existsSync(hostPath), hostPath).toBe(false);
      }
    },
  }),
  probe({
    name: 'a fork bomb hits the process limit and the host can still start processes',
    setup: nothing,
    probe: async (run, workdir) => {
      const counted = await run({
        command: `perl -e 'my $n = 0; while (1) { my $p = fork(); last unless defined $p; if ($p == 0) { sleep 30; exit 0 } $n++ } print "forks refused after $n\\n"'`,
        workdir,
        limits: { maxProcesses: 64 },
      });
      const bomb = await run({ command: 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived', workdir, limits: { maxProcesses: 64, wallTimeMs: 5000 } });
      return { counted, bomb };
    },
    expectation: async ({ counted, bomb }) => {
      const forked = Number(/forks refused after (\d+)/.exec(counted.output)?.[1]);
      expect(forked).toBeGreaterThan(0);
      expect(forked).toBeLessThan(64);
      expect(counted.stopReason).toBe('exit');
      expect(['exit', 'timeout']).toContain(bomb.stopReason);
      const { stdout } = await execFileAsync('echo', ['host still spawns']);
      expect(stdout).toBe('host still spawns\n');
    },
  }),
  probe({
    name: 'asking for limits above the ceilings gets the ceilings',
    setup: nothing,
    probe: (run, workdir) =>
      run({
        // What a repository's .ado.yml once asked for: 50,000 processes, 30 GiB, a day of CPU.
        command: "grep -E '^Max (processes|data size|cpu time|file size) ' /proc/self/limits; df -B1 --output=size /tmp | tail -n 1",
        workdir,
        limits: { maxProcesses: 50_000, memoryBytes: 30 * 1024 ** 3, cpuTimeSec: 86_400, diskBytes: 100 * 1024 ** 3, wallTimeMs: 86_400_000 },
      }),
    expectation: (result) => {
      const soft = (name: string) => Number(new RegExp(`^Max ${name}\\s+(\\d+)`, 'm').exec(result.output)?.[1]);
      expect(soft('cpu time')).toBe(DEFAULT_SANDBOX_CEILINGS.cpuTimeSec);
      expect(soft('file size')).toBe(DEFAULT_SANDBOX_CEILINGS.diskBytes);
      expect(soft('data size')).toBe(DEFAULT_SANDBOX_CEILINGS.memoryBytes);
      expect(soft('processes')).toBe(DEFAULT_SANDBOX_CEILINGS.maxProcesses);
      // The private /tmp is sized by the memory limit, so by its ceiling too.
      expect(Number(result.output.trim().split('\n').pop())).toBe(DEFAULT_SANDBOX_CEILINGS.memoryBytes);
    },
  }),
  probe({
    name: 'allocating past the memory limit stops the run with stop reason memory',
    setup: nothing,
    probe: (run, workdir) => run({ command: ALLOCATE_FOREVER, workdir, limits: { memoryBytes: 256 * 1024 ** 2 } }),
    expectation: (result) => {
      expect(result.stopReason).toBe('memory');
      expect(result.reason).toContain('256 MiB');
      expect(result.output).toContain('allocation failed');
    },
  }),
  probe({
    name: 'writing many files past the disk limit stops the run with stop reason disk, soon after the limit',
    setup: async (workdir) => workdir,
    probe: (run, workdir) =>
      run({
        // 16 MiB files, as fast as the disk takes them, 3 GiB in all if nothing stops it.
        command: 'i=0; while [ $i -lt 192 ]; do head -c 16777216 /dev/zero > "f$i"; i=$((i+1)); done; echo wrote-everything',
        workdir,
        limits: { diskBytes: 256 * 1024 ** 2, wallTimeMs: 120_000 },
      }),
    expectation: async (result, workdir) => {
      expect(result).toMatchObject({ stopReason: 'disk', signal: 'SIGKILL' });
      expect(result.reason).toBe('killed: wrote more than the disk limit of 256 MiB to the workspace');
      expect(result.output).not.toContain('wrote-everything');
      // Stopped within about a second of passing the limit: far from the 3 GiB it set out to write.
      const { stdout } = await execFileAsync('du', ['-s', '-B1', workdir]);
      expect(Number(stdout.split('\t')[0])).toBeLessThan(1024 ** 3);
    },
  }),
  probe({
    name: 'a single file cannot grow past the disk limit',
    setup: nothing,
    probe: (run, workdir) => run({ command: 'head -c 104857600 /dev/zero > big; echo "exit $?"; stat -c %s big', workdir, limits: { diskBytes: 8 * 1024 ** 2 } }),
    expectation: (result) => {
      // The shell reports head's death by SIGXFSZ (128+25); the file stops at the limit.
      expect(result.output).toMatch(/exit 153\n8388608\n$/);
    },
  }),
  probe({
    name: 'an endless loop is killed at the wall-time limit, with every process it started',
    setup: async () => `31337.${Date.now() % 100000}`,
    probe: (run, workdir, marker) => run({ command: `sleep ${marker} & while :; do :; done`, workdir, limits: { wallTimeMs: 1500 } }),
    expectation: (result, marker) => {
      expect(result).toMatchObject({ stopReason: 'timeout', reason: 'killed: wall time 1.5 s exceeded', signal: 'SIGKILL' });
      expect(hostProcessesWith(`sleep\0${marker}`)).toEqual([]);
    },
  }),
  probe({
    name: 'a CPU-bound run past the CPU limit stops with stop reason cpu',
    setup: nothing,
    probe: (run, workdir) => run({ command: 'while :; do :; done', workdir, limits: { cpuTimeSec: 1, wallTimeMs: 60_000 } }),
    expectation: (result) => {
      expect(result).toMatchObject({ stopReason: 'cpu', signal: 'SIGXCPU' });
      expect(result.reason).toContain('CPU time limit of 1 s');
    },
  }),
  probe({
    name: '100 MB of output is cut at the cap, the run goes on to its end and says so',
    setup: nothing,
    probe: (run, workdir) => run({ command: "head -c 104857600 /dev/zero | tr '\\0' a; echo; echo finished >&2", workdir }),
    expectation: (result) => {
      expect(result).toMatchObject({ stopReason: 'exit', exitCode: 0, truncated: true });
      expect(result.output.endsWith('[output truncated after 1048576 bytes]\n')).toBe(true);
      expect(result.output.length).toBeLessThan(1048576 + 100);
      expect(result.output).not.toContain('finished');
    },
  }),
  probe({
    name: 'asking to keep 600 MB of output keeps no more than the ceiling in memory',
    setup: nothing,
    probe: (run, workdir) => run({ command: "head -c 104857600 /dev/zero | tr '\\0' a", workdir, limits: { maxOutputBytes: 600 * 1024 ** 2 } }),
    expectation: (result) => {
      expect(result.truncated).toBe(true);
      expect(result.output.endsWith(`[output truncated after ${DEFAULT_SANDBOX_CEILINGS.maxOutputBytes} bytes]\n`)).toBe(true);
    },
  }),
  probe({
    name: 'cannot push characters into the terminal of the process that started it (TIOCSTI)',
    setup: nothing,
    probe: async (_run, workdir) => {
      const helper = path.resolve(__dirname, '../../test/sandbox/tiocsti-host.ts');
      const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
      // pty.spawn gives the helper a pseudo-terminal as its controlling terminal, as a worker started from a shell has.
      const { stdout } = await execFileAsync('python3', ['-c', 'import pty, sys; pty.spawn(sys.argv[1:])', tsx, helper, workdir]);
      return JSON.parse(/\{.*\}/.exec(stdout)?.[0] ?? '{}') as { hostHasTerminal?: boolean; stopReason?: string; output?: string };
    },
    expectation: (report) => {
      expect(report.hostHasTerminal).toBe(true);
      expect(report.stopReason).toBe('exit');
      expect(report.output).toMatch(/fd0:\d+ fd1:\d+ fd2:\d+ tty(-open)?:\d+/);
      expect(report.output).not.toContain('INJECTED');
    },
  }),
  probe({
    name: 'killing its parent or every process it can see leaves the worker and its children alive',
    setup: async () => {
      const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
      onTestFinished(() => {
        bystander.kill('SIGKILL');
      });
      return bystander;
    },
    probe: async (run, workdir): Promise<[SandboxRunResult, SandboxRunResult]> => [
      await run({ command: 'kill -9 $PPID; kill -9 1; kill -9 -1; echo still-here', workdir }),
      await run({ command: 'echo next run', workdir }),
    ],
    expectation: ([result, after], bystander) => {
      expect(result.output).toContain('still-here');
      expect(result.stopReason).toBe('exit');
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      expect(() => process.kill(bystander.pid as number, 0)).not.toThrow();
      expect(after.output).toBe('next run\n');
    },
  }),
];

describe('bubblewrap sandbox escape attempts', () => {
  beforeAll(() => {
    process.env.ADO_ESCAPE_TEST_SECRET = secret;
  });
  afterAll(() => {
    delete process.env.ADO_ESCAPE_TEST_SECRET;
  });

  it.each(PROBES.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const workdir = await tempWorkspace();
    const fixture = await entry.setup(workdir);
    await entry.expectation(await entry.probe((spec, options) => sandbox.run(spec, options), workdir, fixture), fixture);
  });
});
