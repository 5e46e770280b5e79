/** Running worker pools until they are asked to stop. */
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { AdoActivities } from '../activities/interfaces';
import { createWorkers, runWorkers, type WorkerPoolChoice } from './workers';

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped; rejects when one failed. */
  done: Promise<void>;
  /** Graceful stop: no new tasks, running activities are cancelled after the grace time. */
  shutdown(): Promise<void>;
}

export interface StartWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  pool: WorkerPoolChoice;
  activities: Partial<AdoActivities>;
  queuePrefix?: string;
  maxConcurrentActivityExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
}

export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const workers = await createWorkers({ ...options, workerOptions: { shutdownGraceTime: '10s' } });
  const done = runWorkers(workers);
  return {
    workers,
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done.catch(() => {});
    },
  };
}
