/**
 * Sandbox and gate-runner costs, side by side in one run:
 * - a bubblewrap run of `true` against a plain `child_process.spawn('true')` (medians), with the
 *   workspace handed to the sandbox user for the run (ADO as root) and already owned by it;
 * - four gates of different lengths run in parallel against the slowest of them alone.
 * Targets: sandbox overhead under 20 ms median; parallel gates within 1.2x of the slowest gate.
 *   usage: npx tsx bench/sandbox.bench.ts [runs]
 */
import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGates, type Gate } from '../src/gates/runner';
import { createSandbox, DEFAULT_SANDBOX_USER, type Sandbox } from '../src/sandbox';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

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

async function runTrue(sandbox: Sandbox, workdir: string): Promise<void> {
  const result = await sandbox.run({ command: 'true', workdir });
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

/** Runs the benchmark and returns its figures in milliseconds (and the gates ratio). */
export async function runSandboxBench(runs = 30): Promise<Record<string, number>> {
  const sandbox = createSandbox({ backend: 'bubblewrap' });
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-'));
  try {
    const spawnMs = await medianOf(runs, spawnTrue);
    const sandboxMs = await medianOf(runs, () => runTrue(sandbox, workdir));
    const figures: Record<string, number> = {
      'spawn true (ms, median)': spawnMs,
      'sandbox true (ms, median)': sandboxMs,
      'sandbox overhead (ms, median)': sandboxMs - spawnMs,
    };
    if (process.getuid?.() === 0) {
      // As root the workspace is handed to the sandbox user per run; a workspace it already owns skips that.
      await chown(workdir, DEFAULT_SANDBOX_USER.uid, DEFAULT_SANDBOX_USER.gid);
      const ownedMs = await medianOf(runs, () => runTrue(sandbox, workdir));
      figures['sandbox true, workspace pre-owned (ms, median)'] = ownedMs;
      figures['sandbox overhead, workspace pre-owned (ms, median)'] = ownedMs - spawnMs;
    }
    const slowest = GATES.at(-1) as Gate;
    const slowestMs = median([await gatesWall(sandbox, [slowest], workdir), await gatesWall(sandbox, [slowest], workdir), await gatesWall(sandbox, [slowest], workdir)]);
    const parallelMs = median([await gatesWall(sandbox, GATES, workdir), await gatesWall(sandbox, GATES, workdir), await gatesWall(sandbox, GATES, workdir)]);
    figures['slowest gate alone (ms, median of 3)'] = slowestMs;
    figures['4 gates in parallel (ms, median of 3)'] = parallelMs;
    figures['parallel / slowest (ratio)'] = parallelMs / slowestMs;
    return figures;
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

function printTable(figures: Record<string, number>): void {
  const width = Math.max(...Object.keys(figures).map((name) => name.length));
  for (const [name, value] of Object.entries(figures)) {
    console.log(`${name.padEnd(width)}  ${value.toFixed(name.includes('ratio') ? 2 : 1).padStart(8)}`);
  }
  const overhead = figures['sandbox overhead (ms, median)'] ?? NaN;
  const ratio = figures['parallel / slowest (ratio)'] ?? NaN;
  console.log(`\ntargets: sandbox overhead < 20 ms: ${overhead < 20 ? 'met' : 'MISSED'}; parallel gates <= 1.2x slowest: ${ratio <= 1.2 ? 'met' : 'MISSED'}`);
  console.log(`load average at the end: ${os.loadavg().map((load) => load.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 30);
  runSandboxBench(runs).then(printTable, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
