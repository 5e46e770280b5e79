/** Running worker pools until they are asked to stop. */
import type { DataConverter } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { Logger } from '../telemetry/logger';
import { startWorkerGauges } from '../telemetry/worker-gauges';
import { taskExecutionWorkflow } from '../workflows/task-execution.workflow';
import { createWorkers, runWorkers, type WorkerPoolOptions } from './workers';

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped; rejects when one failed. */
  done: Promise<void>;
  /** Graceful stop: no new tasks, running activities are cancelled after the grace time. */
  shutdown(): Promise<void>;
}

/** The pool to run and how: `createWorkers`' options, the process's data converter, and its gauges. */
export type StartWorkersOptions = Omit<WorkerPoolOptions, 'workerOptions'> & {
  /** @default the SDK's (payloads unencrypted) */
  dataConverter?: DataConverter;
  /** Report the pool's queue depth (and tasks by phase) through the runtime's metrics. @default off */
  gauges?: { logger: Logger };
};

export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const { dataConverter, gauges, ...pool } = options;
  const workers = await createWorkers({ ...pool, workerOptions: { shutdownGraceTime: '10s', dataConverter } });
  const sampling = gauges && startWorkerGauges({ ...pool, workflowType: taskExecutionWorkflow.name, logger: gauges.logger });
  const done = runWorkers(workers);
  return {
    workers,
    done,
    async shutdown() {
      await sampling?.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done.catch(() => {});
    },
  };
}
