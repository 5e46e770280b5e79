/**
 * The sandbox escape probes: a table of named attempts, each trying one way out of the sandbox. A
 * probe prepares the host (`setup`: files, listeners), makes its attempt (`attempt`: one or more
 * sandbox runs) and judges what must hold (`judge`): the attempt contained, the run reporting why
 * it stopped, the host unaffected. Each judgement that fails is a line saying what got out; a
 * probe with none is contained. The same table runs in the test suite (against every backend this
 * host has) and in `ado sandbox check` (against the configured one).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Sandbox, SandboxRunResult } from '../types';
import { DEFAULT_SANDBOX_CEILINGS } from '../types';
import { ALLOCATE_FOREVER, type Cleanup, connectCommand, hostAddress, hostListener, hostProcessesWith, proxyConnectCommand } from './host-fixtures';

const execFileAsync = promisify(execFile);

/** What a probe's judgement collects: one line per thing that did not hold. */
export class Judgement {
  readonly failures: string[] = [];

  holds(condition: boolean, what: string): void {
    if (!condition) this.failures.push(what);
  }

  equal(actual: unknown, expected: unknown, what: string): void {
    const same = JSON.stringify(actual) === JSON.stringify(expected);
    this.holds(same, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }

  matches(text: string, pattern: RegExp, what: string): void {
    this.holds(pattern.test(text), `${what}: expected ${String(pattern)}, got ${JSON.stringify(text.slice(0, 200))}`);
  }

  lacks(text: string, needle: string, what: string): void {
    this.holds(!text.includes(needle), `${what}: found in the output`);
  }
}

/** What a probe gets besides the sandbox: a fresh workspace and somewhere to register its cleanup. */
export interface ProbeContext {
  workdir: string;
  cleanup: Cleanup;
  backend: Sandbox['backend'];
}

/** One attempt to get out: what it prepares on the host, what it runs, what must hold after. */
export interface EscapeProbe<Fixture = unknown, Outcome = unknown> {
  name: string;
  setup: (context: ProbeContext) => Promise<Fixture>;
  attempt: (run: Sandbox['run'], context: ProbeContext, fixture: Fixture) => Promise<Outcome>;
  judge: (judgement: Judgement, outcome: Outcome, fixture: Fixture, context: ProbeContext) => Promise<void> | void;
}

/** Checks a probe's types where it is written; the table holds them as one type. */
function probe<Fixture, Outcome>(entry: EscapeProbe<Fixture, Outcome>): EscapeProbe {
  return entry as EscapeProbe;
}

const nothing = async () => undefined;

/** A host file holding `content` in `folder`, removed after the probe. */
async function hostFile(context: ProbeContext, folder: string, content: string): Promise<string> {
  const file = path.join(folder, `.ado-escape-${randomBytes(6).toString('hex')}`);
  await writeFile(file, content);
  context.cleanup.add(() => rm(file, { force: true }));
  return file;
}

/** A listener on the host, closed after the probe. */
async function listener(context: ProbeContext, host?: string) {
  const opened = await hostListener(host);
  context.cleanup.add(() => opened.close());
  return opened;
}

/** A worker environment variable holding a secret, removed after the probe. */
function workerSecret(context: ProbeContext): string {
  const secret = `ado-secret-${randomBytes(8).toString('hex')}`;
  process.env.ESCAPE_PROBE_WORKER_SECRET = secret;
  context.cleanup.add(() => delete process.env.ESCAPE_PROBE_WORKER_SECRET);
  return secret;
}

/** `run` of `command` with network through the egress proxy, and generous time for it. */
const withNetwork = (run: Sandbox['run'], workdir: string, command: string) => run({ command, workdir, network: true, limits: { wallTimeMs: 60_000 } });

const lines = (result: SandboxRunResult) => result.output.split('\n').filter(Boolean);

/** Every probe, in the order they run. */
export const ESCAPE_PROBES: readonly EscapeProbe[] = [
  probe({
    name: 'cannot connect to a listener on the host loopback',
    setup: (context) => listener(context),
    attempt: (run, { workdir }, host) => run({ command: connectCommand('127.0.0.1', host.port), workdir }),
    judge: (judgement, result, host) => {
      judgement.matches(result.output, /^BLOCKED ECONNREFUSED/, 'connecting to the host loopback');
      judgement.equal([result.stopReason, result.exitCode], ['exit', 3], 'stop reason and exit code');
      judgement.equal(host.connections(), 0, 'connections the host listener accepted');
    },
  }),
  probe({
    name: 'cannot reach a public address',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: connectCommand('1.1.1.1', 443), workdir }),
    // Only the sandbox's own loopback exists: no route anywhere else.
    judge: (judgement, result) => {
      judgement.matches(result.output, /^BLOCKED ENETUNREACH/, 'connecting to 1.1.1.1:443');
      judgement.equal([result.stopReason, result.exitCode], ['exit', 3], 'stop reason and exit code');
    },
  }),
  probe({
    name: 'with network, cannot reach the host loopback: not directly, not through the egress proxy by address or by name',
    setup: (context) => listener(context),
    attempt: (run, { workdir }, host) =>
      withNetwork(
        run,
        workdir,
        [connectCommand('127.0.0.1', host.port), proxyConnectCommand('127.0.0.1', host.port), proxyConnectCommand('localhost', host.port), proxyConnectCommand('::1', host.port)].join('; '),
      ),
    judge: (judgement, result, host) => {
      judgement.equal(lines(result), ['BLOCKED ECONNREFUSED', 'PROXY 403', 'PROXY 403', 'PROXY 403'], 'direct, then through the proxy');
      judgement.equal(host.connections(), 0, 'connections the host listener accepted');
    },
  }),
  probe({
    name: "with network, cannot reach services on the host's own non-loopback address",
    setup: (context) => listener(context, '0.0.0.0'),
    attempt: (run, { workdir }, host) => withNetwork(run, workdir, `${connectCommand(hostAddress(), host.port)}; ${proxyConnectCommand(hostAddress(), host.port)}`),
    judge: (judgement, result, host) => {
      judgement.equal(lines(result), ['BLOCKED ENETUNREACH', 'PROXY 403'], 'direct, then through the proxy');
      judgement.equal(host.connections(), 0, 'connections the host listener accepted');
    },
  }),
  probe({
    name: 'with network, cannot reach the cloud metadata address, other hosts, or plain HTTP through the proxy',
    setup: nothing,
    attempt: (run, { workdir }) =>
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
    judge: (judgement, result) => {
      judgement.equal(lines(result), ['BLOCKED ENETUNREACH', 'PROXY 403', 'PROXY 403', 'PROXY 403', 'PLAIN 403'], 'metadata, other hosts, other ports, plain HTTP');
    },
  }),
  probe({
    name: 'cannot read files under /root or the home folder, nor the worker environment',
    setup: async (context) => {
      const secret = workerSecret(context);
      const files = [await hostFile(context, os.homedir(), secret), await hostFile(context, os.tmpdir(), secret)];
      if (process.getuid?.() === 0 && os.homedir() !== '/root') files.push(await hostFile(context, '/root', secret));
      return { secret, files };
    },
    attempt: (run, { workdir }, { files }) => {
      const command = [
        ...files.map((file) => `cat ${file}`),
        `ls -la /root ${os.homedir()}`,
        'env',
        "for f in /proc/1/environ /proc/$PPID/environ /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
        'echo visible-processes: $(ls -d /proc/[0-9]* | wc -l)',
      ].join('; ');
      return run({ command, workdir });
    },
    judge: (judgement, result, { secret }) => {
      judgement.equal(result.stopReason, 'exit', 'stop reason');
      judgement.lacks(result.output, secret, 'the secret of a host file or of the worker environment');
      judgement.lacks(result.output, 'ESCAPE_PROBE_WORKER_SECRET', 'the name of a worker environment variable');
      // The pid namespace shows the sandbox's own few processes, none of the host's.
      const visible = Number(/visible-processes: (\d+)/.exec(result.output)?.[1]);
      judgement.holds(visible > 0 && visible < 10, `processes visible in the sandbox: expected a few, got ${visible}`);
      judgement.lacks(result.output, `${process.pid}/environ`, "the worker's own /proc entry");
    },
  }),
  probe({
    name: 'cannot write outside the workspace',
    setup: async (context) => {
      const tag = randomBytes(6).toString('hex');
      const beside = path.join(path.dirname(context.workdir), `ado-escape-${tag}`);
      context.cleanup.add(() => rm(beside, { force: true }));
      return { tag, victim: await hostFile(context, os.tmpdir(), 'original'), beside };
    },
    attempt: (run, { workdir }, { tag, victim, beside }) => {
      const attempts = [victim, `/usr/ado-escape-${tag}`, `/etc/ado-escape-${tag}`, `/workspace/../ado-escape-${tag}`, beside];
      return run({ command: `${attempts.map((target) => `echo pwned > ${target}`).join('; ')}; echo attempts-done`, workdir });
    },
    judge: async (judgement, result, { tag, victim, beside }) => {
      judgement.holds(result.output.includes('attempts-done') && result.stopReason === 'exit', `the attempts ran to their end: ${result.reason}`);
      judgement.equal(await readFile(victim, 'utf8'), 'original', 'a host file outside the workspace');
      for (const hostPath of [`/usr/ado-escape-${tag}`, `/etc/ado-escape-${tag}`, `/ado-escape-${tag}`, beside]) {
        judgement.holds(!existsSync(hostPath), `${hostPath} was created on the host`);
      }
    },
  }),
  probe({
    name: 'a fork bomb hits the process limit and the host can still start processes',
    setup: nothing,
    attempt: async (run, { workdir }) => {
      const counted = await run({
        command: `perl -e 'my $n = 0; while (1) { my $p = fork(); last unless defined $p; if ($p == 0) { sleep 30; exit 0 } $n++ } print "forks refused after $n\\n"'`,
        workdir,
        limits: { maxProcesses: 64 },
      });
      const bomb = await run({ command: 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived', workdir, limits: { maxProcesses: 64, wallTimeMs: 5000 } });
      return { counted, bomb };
    },
    judge: async (judgement, { counted, bomb }) => {
      const forked = Number(/forks refused after (\d+)/.exec(counted.output)?.[1]);
      judgement.holds(forked > 0 && forked < 64, `forks before the limit of 64 refused more: got ${JSON.stringify(counted.output.slice(0, 200))}`);
      judgement.equal(counted.stopReason, 'exit', 'stop reason of the counted forks');
      judgement.holds(['exit', 'timeout'].includes(bomb.stopReason), `the fork bomb ended by itself or at its wall time: ${bomb.reason}`);
      const { stdout } = await execFileAsync('echo', ['host still spawns']);
      judgement.equal(stdout, 'host still spawns\n', 'a host process started after the bomb');
    },
  }),
  probe({
    name: 'asking for limits above the ceilings gets the ceilings',
    setup: nothing,
    attempt: (run, { workdir }) =>
      run({
        // What a repository's .ado.yml once asked for: 50,000 processes, 30 GiB, a day of CPU.
        command: "grep -E '^Max (processes|data size|cpu time|file size) ' /proc/self/limits; grep MemTotal /proc/meminfo; df -B1 --output=size /tmp | tail -n 1",
        workdir,
        limits: { maxProcesses: 50_000, memoryBytes: 30 * 1024 ** 3, cpuTimeSec: 86_400, diskBytes: 100 * 1024 ** 3, wallTimeMs: 86_400_000 },
      }),
    judge: (judgement, result, _fixture, { backend }) => {
      const soft = (name: string) => Number(new RegExp(`^Max ${name}\\s+(\\d+)`, 'm').exec(result.output)?.[1]);
      judgement.equal(soft('cpu time'), DEFAULT_SANDBOX_CEILINGS.cpuTimeSec, 'CPU time limit');
      judgement.equal(soft('file size'), DEFAULT_SANDBOX_CEILINGS.diskBytes, 'file size limit');
      judgement.equal(soft('processes'), DEFAULT_SANDBOX_CEILINGS.maxProcesses, 'process limit');
      if (backend === 'gvisor') {
        // Memory is the sandbox's own: gVisor's kernel has as much as the limit.
        const total = Number(/^MemTotal:\s+(\d+) kB/m.exec(result.output)?.[1]) * 1024;
        judgement.equal(total, DEFAULT_SANDBOX_CEILINGS.memoryBytes, 'memory of the sandbox');
      } else {
        judgement.equal(soft('data size'), DEFAULT_SANDBOX_CEILINGS.memoryBytes, 'data size limit');
      }
      // The private /tmp is sized by the memory limit, so by its ceiling too.
      judgement.equal(Number(result.output.trim().split('\n').pop()), DEFAULT_SANDBOX_CEILINGS.memoryBytes, 'size of /tmp');
    },
  }),
  probe({
    name: 'allocating past the memory limit stops the run with stop reason memory',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: ALLOCATE_FOREVER, workdir, limits: { memoryBytes: 256 * 1024 ** 2 } }),
    judge: (judgement, result) => {
      judgement.equal(result.stopReason, 'memory', 'stop reason');
      judgement.holds(result.reason.includes('256 MiB'), `the reason names the limit: ${result.reason}`);
    },
  }),
  probe({
    name: 'writing many files past the disk limit stops the run with stop reason disk, soon after the limit',
    setup: nothing,
    attempt: (run, { workdir }) =>
      run({
        // 16 MiB files, as fast as the disk takes them, 3 GiB in all if nothing stops it.
        command: 'i=0; while [ $i -lt 192 ]; do head -c 16777216 /dev/zero > "f$i"; i=$((i+1)); done; echo wrote-everything',
        workdir,
        limits: { diskBytes: 256 * 1024 ** 2, wallTimeMs: 120_000 },
      }),
    judge: async (judgement, result, _fixture, { workdir }) => {
      judgement.equal([result.stopReason, result.signal], ['disk', 'SIGKILL'], 'stop reason and signal');
      judgement.equal(result.reason, 'killed: wrote more than the disk limit of 256 MiB to the workspace', 'reason');
      judgement.lacks(result.output, 'wrote-everything', 'the end of the writing loop');
      // Stopped within about a second of passing the limit: far from the 3 GiB it set out to write.
      const { stdout } = await execFileAsync('du', ['-s', '-B1', workdir]);
      judgement.holds(Number(stdout.split('\t')[0]) < 1024 ** 3, `bytes written: ${stdout.split('\t')[0]}, expected under 1 GiB`);
    },
  }),
  probe({
    name: 'a single file cannot grow past the disk limit',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: 'head -c 104857600 /dev/zero > big; echo "exit $?"; stat -c %s big', workdir, limits: { diskBytes: 8 * 1024 ** 2 } }),
    // The shell reports head's death by SIGXFSZ (128+25); the file stops at the limit.
    judge: (judgement, result) => judgement.matches(result.output, /exit 153\n8388608\n$/, 'writing 100 MB to one file with a limit of 8 MiB'),
  }),
  probe({
    name: 'an endless loop is killed at the wall-time limit, with every process it started',
    setup: async () => `31337.${Date.now() % 100000}`,
    attempt: (run, { workdir }, marker) => run({ command: `sleep ${marker} & while :; do :; done`, workdir, limits: { wallTimeMs: 1500 } }),
    judge: (judgement, result, marker) => {
      judgement.equal([result.stopReason, result.reason, result.signal], ['timeout', 'killed: wall time 1.5 s exceeded', 'SIGKILL'], 'stop reason, reason and signal');
      judgement.equal(hostProcessesWith(`sleep\0${marker}`), [], 'processes of the run left on the host');
    },
  }),
  probe({
    name: 'a CPU-bound run past the CPU limit stops with stop reason cpu',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: 'while :; do :; done', workdir, limits: { cpuTimeSec: 1, wallTimeMs: 60_000 } }),
    judge: (judgement, result) => {
      judgement.equal([result.stopReason, result.signal], ['cpu', 'SIGXCPU'], 'stop reason and signal');
      judgement.holds(result.reason.includes('CPU time limit of 1 s'), `the reason names the limit: ${result.reason}`);
    },
  }),
  probe({
    name: '100 MB of output is cut at the cap, the run goes on to its end and says so',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: "head -c 104857600 /dev/zero | tr '\\0' a; echo; echo finished >&2", workdir }),
    judge: (judgement, result) => {
      judgement.equal([result.stopReason, result.exitCode, result.truncated], ['exit', 0, true], 'stop reason, exit code, truncated');
      judgement.holds(result.output.endsWith('[output truncated after 1048576 bytes]\n'), 'the output ends with the truncation note');
      judgement.holds(result.output.length < 1048576 + 100, `output kept: ${result.output.length} characters`);
      judgement.lacks(result.output, 'finished', 'output after the cap');
    },
  }),
  probe({
    name: 'asking to keep 600 MB of output keeps no more than the ceiling in memory',
    setup: nothing,
    attempt: (run, { workdir }) => run({ command: "head -c 104857600 /dev/zero | tr '\\0' a", workdir, limits: { maxOutputBytes: 600 * 1024 ** 2 } }),
    judge: (judgement, result) => {
      judgement.equal(result.truncated, true, 'truncated');
      judgement.holds(result.output.endsWith(`[output truncated after ${DEFAULT_SANDBOX_CEILINGS.maxOutputBytes} bytes]\n`), 'cut at the output ceiling');
    },
  }),
  probe({
    name: 'killing its parent or every process it can see leaves the worker and its children alive',
    setup: async (context) => {
      const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
      context.cleanup.add(() => bystander.kill('SIGKILL'));
      return bystander;
    },
    attempt: async (run, { workdir }): Promise<[SandboxRunResult, SandboxRunResult]> => [
      await run({ command: 'kill -9 $PPID; kill -9 1; kill -9 -1; echo still-here', workdir }),
      await run({ command: 'echo next run', workdir }),
    ],
    judge: (judgement, [result, after], bystander, { backend }) => {
      if (backend === 'gvisor') {
        // gVisor delivers SIGKILL to the sandbox's first process from inside: the run may end itself, nothing more.
        judgement.holds(result.stopReason === 'exit' || result.stopReason === 'signal', `the run ended by itself: ${result.reason}`);
      } else {
        judgement.holds(result.output.includes('still-here') && result.stopReason === 'exit', `the run went on after its kills: ${result.reason}`);
      }
      judgement.equal([bystander.exitCode, bystander.signalCode], [null, null], 'a host process started by the worker');
      judgement.equal(after.output, 'next run\n', 'the next run');
    },
  }),
];
