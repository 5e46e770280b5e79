/**
 * The benchmark's workflow bundle: ADO's task workflow and coding session, and a bare workflow that does nothing but
 * call one no-op activity per entry of `queues`, one after the other. Given the task queues of a
 * real task's scheduled activities, the bare workflow costs what Temporal itself costs for that
 * task, so the difference is ADO's own.
 */
import { proxyActivities } from '@temporalio/workflow';

export { codingSessionWorkflow, taskExecutionWorkflow } from '../src/workflows';

/** The no-op activity every bench worker serves on every queue. */
export interface BenchActivities {
  benchNoop(): Promise<void>;
}

/** Calls `benchNoop` on each queue in order. */
export async function bareWorkflow(queues: string[]): Promise<void> {
  for (const taskQueue of queues) {
    const { benchNoop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '15s', taskQueue });
    await benchNoop();
  }
}
