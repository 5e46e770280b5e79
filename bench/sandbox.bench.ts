/**
 * Sandbox and gate-runner costs, side by side in one run:
 * - a bubblewrap run of `true` against a plain `child_process.spawn('true')` (medians), with the
 *   workspace handed to the sandbox user for the run (ADO as root) and already owned by it;
 * - a run with network (the command under the egress bridge, behind the proxy) against one without;
 * - four gates of different lengths run in parallel against the slowest of them alone;
 * - where gVisor runs (root, runsc found): a `runsc run` per command and a `runsc exec` into a
 *   long-lived sandbox (a session), and the four gates in parallel under each.
 * Targets (on the figures): sandbox overhead under 20 ms median; parallel gates within 1.2x of
 * the slowest gate; gVisor per command at most 150 ms one-shot (the order of a Firecracker boot)
 * and 30 ms in a session.
 *   usage: npx tsx bench/sandbox.bench.ts [runs]
 */
import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGates, type Gate } from '../src/gates/runner';
import { createSandbox, DEFAULT_SANDBOX_USER, type Sandbox } from '../src/sandbox';
import { gvisorReadyHere } from '../src/sandbox/gvisor/runsc-binary';
import { atMost, below, figure, printReport, type Figure } from './report';
import { median } from './stats';

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function medianOf(runs: number, action: () => Promise<unknown>): Promise<number> {
  await action(); // warm-up: first-run costs (probe, page cache) are not the steady state
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(action));
  return median(times);
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', { stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', () => resolve());
  });
}

async function runTrue(sandbox: Sandbox, workdir: string, network = false): Promise<void> {
  const result = await sandbox.run({ command: 'true', workdir, network });
  if (result.exitCode !== 0) throw new Error(`sandboxed true failed: ${result.reason}\n${result.output}`);
}

/** Four gates of different lengths; the last is the slowest. */
const GATES: Gate[] = [
  { name: 'lint', command: 'sleep 0.4' },
  { name: 'typecheck', command: 'node -e "const end = Date.now() + 600; while (Date.now() < end);"' },
  { name: 'build', command: 'sleep 0.8' },
  { name: 'test', command: 'sleep 1.2' },
];

async function gatesWall(sandbox: Sandbox, gates: Gate[], workdir: string): Promise<number> {
  return timed(async () => {
    const outcome = await runGates(sandbox, gates, workdir);
    if (!outcome.passed) throw new Error(`bench gates failed: ${JSON.stringify(outcome.failures)}`);
  });
}

/** Runs the benchmark and returns its figures, with their targets. */
export async function runSandboxBench(runs = 30): Promise<Figure[]> {
  const sandbox = createSandbox({ backend: 'bubblewrap' });
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-'));
  try {
    const spawnMs = await medianOf(runs, spawnTrue);
    const sandboxMs = await medianOf(runs, () => runTrue(sandbox, workdir));
    const figures = [
      figure('spawn true, median', spawnMs, 'ms'),
      figure('sandbox true, median', sandboxMs, 'ms'),
      figure('sandbox overhead, median', sandboxMs - spawnMs, 'ms', below(20, ' ms')),
    ];
    let withoutNetworkMs = sandboxMs;
    if (process.getuid?.() === 0) {
      // As root the workspace is handed to the sandbox user per run; a workspace it already owns skips that.
      await chown(workdir, DEFAULT_SANDBOX_USER.uid, DEFAULT_SANDBOX_USER.gid);
      withoutNetworkMs = await medianOf(runs, () => runTrue(sandbox, workdir));
      figures.push(figure('sandbox true, workspace pre-owned, median', withoutNetworkMs, 'ms'));
      figures.push(figure('sandbox overhead, workspace pre-owned, median', withoutNetworkMs - spawnMs, 'ms'));
    }
    // Against the run just before, in the same state: what the egress bridge (a node process) adds.
    const networkMs = await medianOf(runs, () => runTrue(sandbox, workdir, true));
    figures.push(
      figure('sandbox true with network (egress bridge), median', networkMs, 'ms'),
      figure('network overhead over the same run without, median', networkMs - withoutNetworkMs, 'ms'),
    );
    const slowest = GATES.at(-1) as Gate;
    const slowestMs = median([await gatesWall(sandbox, [slowest], workdir), await gatesWall(sandbox, [slowest], workdir), await gatesWall(sandbox, [slowest], workdir)]);
    const parallelMs = median([await gatesWall(sandbox, GATES, workdir), await gatesWall(sandbox, GATES, workdir), await gatesWall(sandbox, GATES, workdir)]);
    figures.push(
      figure('slowest gate alone, median of 3', slowestMs, 'ms'),
      figure('4 gates in parallel, median of 3', parallelMs, 'ms'),
      figure('parallel / slowest', parallelMs / slowestMs, 'x', atMost(1.2)),
    );
    if (gvisorReadyHere()) figures.push(...(await gvisorFigures(runs, workdir, spawnMs, slowestMs)));
    return figures;
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

/** The same `true` and the same gates under gVisor: one sandbox per command, then one per workspace. */
async function gvisorFigures(runs: number, workdir: string, spawnMs: number, slowestMs: number): Promise<Figure[]> {
  const gvisor = createSandbox({ backend: 'gvisor' });
  const oneShotMs = await medianOf(runs, () => runTrue(gvisor, workdir));
  const session = await gvisor.openSession?.(workdir);
  if (session === undefined) throw new Error('the gVisor backend has sessions');
  try {
    const inSession: Sandbox = { backend: 'gvisor', runsAsOtherUser: false, run: (spec, options) => session.run(spec, options) };
    const execMs = await medianOf(runs, () => runTrue(inSession, workdir));
    const parallelOneShotMs = median([await gatesWall(gvisor, GATES, workdir), await gatesWall(gvisor, GATES, workdir), await gatesWall(gvisor, GATES, workdir)]);
    const parallelSessionMs = median([await gatesWall(inSession, GATES, workdir), await gatesWall(inSession, GATES, workdir), await gatesWall(inSession, GATES, workdir)]);
    return [
      figure('gVisor one-shot true (runsc run), median', oneShotMs, 'ms', below(150, ' ms')),
      figure('gVisor session true (runsc exec), median', execMs, 'ms', below(30, ' ms')),
      figure('gVisor one-shot overhead over spawn, median', oneShotMs - spawnMs, 'ms'),
      figure('gVisor session overhead over spawn, median', execMs - spawnMs, 'ms'),
      figure('4 gates in parallel under gVisor one-shot, median of 3', parallelOneShotMs, 'ms'),
      figure('4 gates in parallel under a gVisor session, median of 3', parallelSessionMs, 'ms'),
      figure('gVisor one-shot parallel gates / slowest gate alone (bubblewrap)', parallelOneShotMs / slowestMs, 'x'),
    ];
  } finally {
    await session.close();
  }
}

function printTable(figures: Figure[]): void {
  printReport([{ name: 'sandbox and gates', figures, notes: [] }]);
  console.log(`\nload average at the end: ${os.loadavg().map((load) => load.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 30);
  runSandboxBench(runs).then(printTable, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
