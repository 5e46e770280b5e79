/**
 * `ado_temporal_workflow_task_queue_depth{task_queue,type}`: the tasks waiting in each task queue,
 * from the server's task queue description (the approximate backlog). The SDK does not emit it.
 */
import type { MetricMeter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Logger } from './logger';
import { startSampling, type Sampling } from './sampling';

export type QueueTaskType = 'workflow' | 'activity';

export interface WatchedQueue {
  name: string;
  /** Which of the queue's task types to report: activity-only queues hold no workflow tasks. */
  types: readonly QueueTaskType[];
}

/** Any connection's gRPC service: a client `Connection`'s or a worker `NativeConnection`'s. */
export interface TemporalServiceConnection<K extends keyof WorkflowService> {
  workflowService: Pick<WorkflowService, K>;
}
type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;

export interface QueueDepthMonitorOptions {
  connection: TemporalServiceConnection<'describeTaskQueue'>;
  namespace: string;
  queues: readonly WatchedQueue[];
  meter: MetricMeter;
  intervalMs: number;
  logger: Logger;
}

const TASK_QUEUE_TYPES: Record<QueueTaskType, temporal.api.enums.v1.TaskQueueType> = {
  workflow: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  activity: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
};

/** Sets the depth gauge of every watched queue and type now and every `intervalMs`. */
export function startQueueDepthMonitor(options: QueueDepthMonitorOptions): Sampling {
  const { connection, namespace, queues, meter } = options;
  const depth = meter.createGauge('ado_temporal_workflow_task_queue_depth', 'int', 'tasks', 'Tasks waiting in each task queue (approximate backlog)');
  const reads = queues.flatMap((queue) => queue.types.map((type) => ({ queue: queue.name, type })));
  return startSampling({
    what: 'task queue depth',
    intervalMs: options.intervalMs,
    logger: options.logger,
    sample: () =>
      settleAll(
        reads.map(async ({ queue, type }) => {
          const { stats } = await connection.workflowService.describeTaskQueue({
            namespace,
            taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
            taskQueueType: TASK_QUEUE_TYPES[type],
            reportStats: true,
          });
          depth.set(toNumber(stats?.approximateBacklogCount), { namespace, task_queue: queue, type });
        }),
      ),
  });
}

/** Waits for every read (one failing does not skip the others); throws the first failure. */
export async function settleAll(reads: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(reads)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A protobuf int64 (Long, number or absent) as a number. */
export function toNumber(value: { toString(): string } | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value.toString());
}
