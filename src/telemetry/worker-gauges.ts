/**
 * What a worker process reports from the server beside the SDK's own metrics: the depth of the
 * task queues it serves and, where the task pool runs, the running tasks by phase.
 */
import type { MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { poolsOf, taskQueues, type WorkerPool } from '../domain/task';
import type { Logger } from './logger';
import { startQueueDepthMonitor, type TemporalServiceConnection, type WatchedQueue } from './queue-depth';
import type { Sampling } from './sampling';
import { startTaskPhaseMonitor } from './task-phases';

/** How often the gauges are read by default: the usual Prometheus scrape interval. */
const DEFAULT_GAUGE_INTERVAL_MS = 15_000;

export interface WorkerGaugesOptions {
  /** The workers' `NativeConnection` (or a client's `Connection`). */
  connection: TemporalServiceConnection<'describeTaskQueue' | 'countWorkflowExecutions'>;
  namespace: string;
  pool: WorkerPool | 'all';
  /** @default '' (see `taskQueues`) */
  queuePrefix?: string;
  /** The task workflow's type, whose running tasks the `task` pool counts by phase. */
  workflowType: string;
  logger: Logger;
  /** @default 15000 (the usual Prometheus scrape interval) */
  intervalMs?: number;
  /** @default the process's Temporal runtime's meter, whose Prometheus endpoint serves them */
  meter?: MetricMeter;
}

/** Starts the gauges of `pool`'s queues; stop them before the connection closes. */
export function startWorkerGauges(options: WorkerGaugesOptions): Sampling {
  const queues = taskQueues(options.queuePrefix);
  const pools = poolsOf(options.pool);
  const watched: WatchedQueue[] = pools.map((pool) => ({ name: queues[pool], types: pool === 'task' ? ['workflow', 'activity'] : ['activity'] }));
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    meter: options.meter ?? Runtime.instance().metricMeter,
    intervalMs: options.intervalMs ?? DEFAULT_GAUGE_INTERVAL_MS,
    logger: options.logger,
  };
  const samplings = [startQueueDepthMonitor({ ...common, queues: watched })];
  if (pools.includes('task')) samplings.push(startTaskPhaseMonitor({ ...common, taskQueue: queues.task, workflowType: options.workflowType }));
  return { stop: () => Promise.all(samplings.map((s) => s.stop())).then(() => {}) };
}
