/**
 * `ado_tasks_by_phase{task_queue,phase}`: how many tasks are running in each phase right now,
 * counted by the server's visibility store on the `AdoPhase` search attribute the workflow keeps
 * current. A count, not a sum of the workflow's own events, so it stays right across restarts.
 */
import type { MetricMeter } from '@temporalio/common';
import { taskWorkflowFilter } from '../domain/search-attributes';
import { TASK_PHASES, TERMINAL_PHASES } from '../domain/task';
import type { Logger } from './logger';
import { settleAll, toNumber, type TemporalServiceConnection } from './queue-depth';
import { startSampling, type Sampling } from './sampling';

export interface TaskPhaseMonitorOptions {
  connection: TemporalServiceConnection<'countWorkflowExecutions'>;
  namespace: string;
  /** The workflow task queue of the deployment whose tasks are counted. */
  taskQueue: string;
  /** The task workflow's type (`taskExecutionWorkflow.name`), given by the worker: telemetry holds no workflow code. */
  workflowType: string;
  meter: MetricMeter;
  intervalMs: number;
  logger: Logger;
}

const ACTIVE_PHASES = TASK_PHASES.filter((phase) => !TERMINAL_PHASES.includes(phase));

/** Sets the gauge of every non-terminal phase now and every `intervalMs`. */
export function startTaskPhaseMonitor(options: TaskPhaseMonitorOptions): Sampling {
  const { connection, namespace, taskQueue, workflowType, meter } = options;
  const tasks = meter.createGauge('ado_tasks_by_phase', 'int', 'tasks', 'Running tasks by phase');
  return startSampling({
    what: 'tasks by phase',
    intervalMs: options.intervalMs,
    logger: options.logger,
    sample: () =>
      settleAll(
        ACTIVE_PHASES.map(async (phase) => {
          const { count } = await connection.workflowService.countWorkflowExecutions({
            namespace,
            query: `${taskWorkflowFilter(workflowType, { taskQueue, phase })} AND ExecutionStatus = 'Running'`,
          });
          tasks.set(toNumber(count), { namespace, task_queue: taskQueue, phase });
        }),
      ),
  });
}
