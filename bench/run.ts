/**
 * `npm run bench`: every figure from one run on one Temporal dev server, printed as a table with
 * each target's pass/MISS, and written as JSON (bench/results/latest.json by default).
 *   usage: npm run bench -- [--tasks 200] [--parked 500] [--samples 20] [--approvals 15] [--only agent,toolcall,memory,recovery] [--out file]
 */
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runAgentBench } from './agent.bench';
import { measureApprovalLatency } from './approval';
import { measureWorkerMemory } from './memory';
import { measureOverhead, measureThroughput, prepareWorkloads } from './overhead';
import { measureRecovery } from './recovery';
import { printReport, writeReport, type Section } from './report';
import { runSandboxBench } from './sandbox.bench';
import { measureToolCalls } from './tool-call.bench';
import { newPrefix, startStack, type BenchServer } from './stack';
import { measureWorkspace } from './workspace.bench';

const MEASUREMENTS = ['sandbox', 'agent', 'workspace', 'toolcall', 'overhead', 'throughput', 'approval', 'memory', 'recovery'] as const;
type Measurement = (typeof MEASUREMENTS)[number];

interface Options {
  tasks: number;
  parked: number;
  samples: number;
  approvals: number;
  out: string;
  only: Measurement[];
  server: BenchServer;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}".`);
  return n;
}

function measurementList(value: string): Measurement[] {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(MEASUREMENTS as readonly string[]).includes(name));
  if (unknown.length) throw new InvalidArgumentError(`unknown measurement(s) ${unknown.join(', ')}; choose from ${MEASUREMENTS.join(', ')}.`);
  return names as Measurement[];
}

function parseOptions(argv: string[]): Options {
  return new Command('bench')
    .description('ADO benchmark: sandbox, gates and orchestration figures against their targets')
    .option('--tasks <n>', 'throughput: runs started at once', positiveInt, 200)
    .option('--parked <n>', 'worker memory: tasks parked at an approval', positiveInt, 500)
    .option('--samples <n>', 'overhead: sequential runs of each workflow', positiveInt, 20)
    .option('--approvals <n>', 'approval latency: tasks decided at plan and pr', positiveInt, 15)
    .option('--only <names>', `comma-separated subset of ${MEASUREMENTS.join(',')}`, measurementList, [...MEASUREMENTS])
    .addOption(new Option('--server <server>', 'the Temporal server of the orchestration figures: the dev server `ado dev` starts, or the production topology (Temporal on PostgreSQL; deploy/topology)').choices(['dev', 'topology']).default('dev'))
    .option('--out <file>', 'JSON results', path.join(__dirname, 'results', 'latest.json'))
    .parse(argv)
    .opts<Options>();
}

function errorSection(name: string, err: unknown): Section {
  return { name, figures: [], notes: [], error: err instanceof Error ? err.message : String(err) };
}

/** Runs one measurement; a failure is reported in its section and the others still run. */
async function section(name: string, measure: () => Promise<Section>): Promise<Section> {
  console.error(`… ${name}`);
  try {
    return await measure();
  } catch (err) {
    return errorSection(name, err);
  }
}

async function sandboxSection(): Promise<Section> {
  return { name: 'sandbox and gates (bench/sandbox.bench.ts)', figures: await runSandboxBench(), notes: [] };
}

async function agentSection(): Promise<Section> {
  return { name: 'coding agent: repository map (bench/agent.bench.ts)', figures: await runAgentBench(), notes: [] };
}

/** Everything that needs the Temporal server, on one server. */
async function orchestrationSections(options: Options, wanted: (m: Measurement) => boolean): Promise<Section[]> {
  const sections: Section[] = [];
  const stack = await startStack(options.server);
  try {
    if (wanted('overhead') || wanted('throughput') || wanted('approval')) {
      const prefix = newPrefix('flow');
      const worker = await stack.startWorker(prefix);
      if (wanted('overhead') || wanted('throughput')) {
        // Prepared once for both; when it fails, each of them reports why.
        const workloads = prepareWorkloads(stack.client, prefix, { worker: worker.pid, server: stack.serverPid });
        if (wanted('overhead')) sections.push(await section('overhead', async () => measureOverhead(await workloads, options.samples)));
        if (wanted('throughput')) sections.push(await section('throughput', async () => measureThroughput(await workloads, options.tasks)));
      }
      if (wanted('approval')) sections.push(await section('approval latency', () => measureApprovalLatency(stack.client, prefix, options.approvals)));
      await worker.process.kill();
    }
    if (wanted('toolcall')) sections.push(await section('tool calls', () => measureToolCalls(stack)));
    if (wanted('memory')) sections.push(await section('worker memory', () => measureWorkerMemory(stack, options.parked)));
    if (wanted('recovery')) sections.push(await section('recovery', () => measureRecovery(stack)));
  } finally {
    await stack.stop();
  }
  return sections;
}

async function main(options: Options): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  const wanted = (m: Measurement) => options.only.includes(m);
  const sections = wanted('sandbox') ? [await section('sandbox', sandboxSection)] : [];
  if (wanted('agent')) sections.push(await section('coding agent', agentSection));
  if (wanted('workspace')) sections.push(await section('workspace', measureWorkspace));
  if (options.only.some((m) => m !== 'sandbox' && m !== 'agent' && m !== 'workspace')) {
    // The server or a worker that does not start costs the orchestration figures, not the others.
    sections.push(...(await orchestrationSections(options, wanted).catch((err: unknown) => [errorSection('orchestration (Temporal dev server, workers)', err)])));
  }
  printReport(sections);
  const meta = {
    startedAt,
    options,
    machine: { cores: os.availableParallelism(), node: process.version, loadBefore, loadAfter: os.loadavg() },
  };
  await writeReport(options.out, meta, sections);
  const server = options.server === 'topology' ? "the topology's Temporal server on PostgreSQL" : 'the Temporal CLI dev server';
  if (options.only.some((m) => m !== 'sandbox' && m !== 'agent' && m !== 'workspace')) console.log(`\norchestration figures on ${server}`);
  console.log(`\nload average before/after: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${meta.machine.loadAfter.map((l) => l.toFixed(2)).join(' ')} on ${meta.machine.cores} cores`);
  console.log(`written to ${path.relative(process.cwd(), options.out)}`);
}

main(parseOptions(process.argv)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
