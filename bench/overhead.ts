/**
 * ADO's cost over Temporal's own: the task workflow with instant test activities against the bare
 * workflow calling as many no-op activities on the same queues, in the same order, on the same
 * worker process — one run at a time (latency) and many at once (throughput). The task's local
 * activities count as hops on the workflow's queue for the bare workflow, so it stays the plain
 * SDK shape of the same task; a second bare workflow makes every hop on the workflow's own queue
 * (what one worker serving everything could reach). Besides wall time, the CPU the worker and the
 * server spent per run: it does not depend on what else the machine runs.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { taskQueues } from '../src/domain/task';
import { startTask, taskInput } from '../test/helpers/workflow';
import { activitiesOf, LOCAL_ACTIVITY, EventType, eventsOfType, historyOf, type HistoryEvent } from './history';
import { cpuMs } from './proc';
import { atLeast, atMost, figure, type Figure, type Section } from './report';
import { startBare } from './stack';
import { median, quantile } from './stats';

type Start = () => Promise<WorkflowHandle>;

/** The processes whose CPU time is counted. */
interface Pids {
  worker: number;
  server: number;
}

/** The two workflows to compare, and what one run of each showed in its history. */
interface Workloads {
  task: Start;
  bare: Start;
  /** The bare workflow with all its hops on the workflow's own queue. */
  bareOneQueue: Start;
  pids: Pids;
  /** Activity types of one task, in the order it scheduled them. */
  activityTypes: string[];
  taskHistory: HistoryEvent[];
  bareHistory: HistoryEvent[];
}

interface Cost {
  wallMs: number;
  workerCpuMs: number;
  serverCpuMs: number;
}

/** Runs one task to count its activities (and their queues) from its history, then one bare run. */
export async function prepareWorkloads(client: Client, prefix: string, pids: Pids): Promise<Workloads> {
  const queue = taskQueues(prefix).task;
  const task = () => startTask(client, queue, taskInput());
  const taskHistory = await probe(task);
  const activities = activitiesOf(taskHistory);
  const activityQueues = activities.map((a) => (a.taskQueue === LOCAL_ACTIVITY ? queue : a.taskQueue));
  const bare = () => startBare(client, prefix, activityQueues);
  const bareOneQueue = () => startBare(client, prefix, activityQueues.map(() => queue));
  return {
    task,
    bare,
    bareOneQueue,
    pids,
    activityTypes: activities.map((a) => (a.taskQueue === LOCAL_ACTIVITY ? `${a.type} (local)` : a.type)),
    taskHistory,
    bareHistory: await probe(bare),
  };
}

/** Runs `start` once to its result and returns the run's history. */
async function probe(start: Start): Promise<HistoryEvent[]> {
  const handle = await start();
  await handle.result();
  return historyOf(handle);
}

/** Starts `count` runs at once and waits for all their results. */
async function runAll(start: Start, count: number): Promise<void> {
  const handles = await Promise.all(Array.from({ length: count }, start));
  await Promise.all(handles.map((h) => h.result()));
}

async function costOf(pids: Pids, action: () => Promise<void>): Promise<Cost> {
  const [worker, server, started] = [cpuMs(pids.worker), cpuMs(pids.server), performance.now()];
  await action();
  return { wallMs: performance.now() - started, workerCpuMs: cpuMs(pids.worker) - worker, serverCpuMs: cpuMs(pids.server) - server };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function cpuFigures(label: string, costs: Cost[], runs: number): Figure[] {
  return [
    figure(`${label}: worker CPU per run`, sum(costs.map((c) => c.workerCpuMs)) / runs, 'ms'),
    figure(`${label}: server CPU per run`, sum(costs.map((c) => c.serverCpuMs)) / runs, 'ms'),
  ];
}

/** Median latency of one task against one bare run, interleaved so that drift hits both. */
export async function measureOverhead(w: Workloads, samples: number): Promise<Section> {
  for (let i = 0; i < 3; i++) await Promise.all([runAll(w.task, 1), runAll(w.bare, 1), runAll(w.bareOneQueue, 1)]); // warm-up: JIT, caches, pollers
  const task: Cost[] = [];
  const bare: Cost[] = [];
  const oneQueue: Cost[] = [];
  for (let i = 0; i < samples; i++) {
    task.push(await costOf(w.pids, () => runAll(w.task, 1)));
    bare.push(await costOf(w.pids, () => runAll(w.bare, 1)));
    oneQueue.push(await costOf(w.pids, () => runAll(w.bareOneQueue, 1)));
  }
  const [taskMs, bareMs, oneQueueMs] = [task, bare, oneQueue].map((costs) => costs.map((c) => c.wallMs)) as [number[], number[], number[]];
  return {
    name: `overhead: task workflow vs bare workflow, one at a time (${samples} runs each, client start → result)`,
    figures: [
      figure('activities per task (from its history)', w.activityTypes.length, ''),
      figure('task latency, median', median(taskMs), 'ms', atMost(500, ' ms')),
      figure('task latency, p95', quantile(taskMs, 0.95), 'ms'),
      figure('bare latency, median', median(bareMs), 'ms'),
      figure('bare latency, p95', quantile(bareMs, 0.95), 'ms'),
      figure('bare on one queue latency, median', median(oneQueueMs), 'ms'),
      figure('task / bare, median latency', median(taskMs) / median(bareMs), 'x', atMost(1.2)),
      ...cpuFigures('task', task, samples),
      ...cpuFigures('bare', bare, samples),
    ],
    notes: [
      `activities: ${summarise(w.activityTypes)}`,
      `history per run, task vs bare: ${describeHistory(w.taskHistory)} vs ${describeHistory(w.bareHistory)}`,
    ],
  };
}

/**
 * Tasks per second for `count` runs started at once, from the first start to the last result;
 * two passes of each in the order bare, task, task, bare, so that a drift in what else the
 * machine runs hits both alike.
 */
export async function measureThroughput(w: Workloads, count: number): Promise<Section> {
  const passes: Record<'task' | 'bare', Cost[]> = { task: [], bare: [] };
  for (const kind of ['bare', 'task', 'task', 'bare'] as const) passes[kind].push(await costOf(w.pids, () => runAll(w[kind], count)));
  const rate = (costs: Cost[]) => (count * costs.length) / (sum(costs.map((c) => c.wallMs)) / 1000);
  const eachPass = (costs: Cost[]) => costs.map((c) => `${rate([c]).toFixed(1)} (server CPU ${(c.serverCpuMs / count).toFixed(0)} ms/run)`).join(', ');
  const [task, bare] = [rate(passes.task), rate(passes.bare)];
  return {
    name: `throughput: ${count} runs started at once (first start → last result), 2 passes each`,
    figures: [
      figure('task workflow', task, 'tasks/s'),
      figure('bare workflow', bare, 'tasks/s'),
      figure('task / bare', task / bare, 'x', atLeast(0.8)),
      ...cpuFigures('task', passes.task, count * passes.task.length),
      ...cpuFigures('bare', passes.bare, count * passes.bare.length),
    ],
    notes: [`per pass, tasks/s: task ${eachPass(passes.task)}; bare ${eachPass(passes.bare)}`],
  };
}

/** "planTask, saveCheckpoint ×6, …": each type once, in first-call order, with its count. */
function summarise(types: string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(', ');
}

function describeHistory(events: HistoryEvent[]): string {
  const bytes = temporal.api.history.v1.History.encode({ events }).finish().length;
  const workflowTasks = eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
  const upserts = eventsOfType(events, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES).length;
  return `${events.length} events (${workflowTasks} workflow tasks, ${upserts} search-attribute upserts), ${(bytes / 1024).toFixed(1)} KiB`;
}
