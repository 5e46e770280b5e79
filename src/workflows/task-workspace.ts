/**
 * The task's warm workspace, seen from the workflow: "run this activity on the task's tree".
 * The first call acquires a workspace on some code worker, which answers with its own task queue
 * (the worker-specific task queue pattern); every later call goes to that queue and finds the
 * tree checked out and set up. When that worker is gone, a call fails on its heartbeat or waits on
 * the queue until the schedule-to-start timeout, and the workspace is acquired anew elsewhere from
 * the task branch's last pushed commit: the call runs again there (it never completed), nothing
 * finished repeats. Like every other call, this goes on until the task's deadline, if it has one.
 */
import { log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { AcquiredWorkspace, WorkspaceActivities } from '../activities/interfaces';
import { describeFailure } from '../domain/errors';
import { isInfrastructureFailure, pastDeadline } from './infrastructure-failure';

/**
 * How long a call waits on the workspace's queue for its worker. Long enough for a busy worker
 * to free a slot; past it the worker is taken for gone (a retry after a crash waits this long too,
 * after the heartbeat timeout).
 */
export const WORKSPACE_START_TIMEOUT = '20s';

export class TaskWorkspace {
  /**
   * @param acquire schedules `acquireWorkspace` (on the code queue) from the task's current head
   * @param options the options of the calls (timeouts, retries); the queue is the workspace's
   * @param queue the queue of a workspace acquired before (by the task for its coding session)
   */
  constructor(
    private readonly acquire: () => Promise<AcquiredWorkspace>,
    private readonly options: ActivityOptions,
    private queue?: string,
  ) {}

  /** The queue of the worker believed to hold the workspace; undefined before the first call. */
  get heldOn(): string | undefined {
    return this.queue;
  }

  /**
   * Continues with a workspace acquired by another workflow of the task (its coding session), so
   * the task and its sessions keep using one tree. Undefined (a session from before) keeps this one.
   */
  adopt(queue: string | undefined): void {
    this.queue = queue ?? this.queue;
  }

  /** Runs `call` with activities that execute on the worker holding the task's workspace. */
  async run<T>(call: (activities: WorkspaceActivities) => Promise<T>): Promise<T> {
    for (;;) {
      this.queue ??= (await this.acquire()).taskQueue;
      try {
        return await call(proxyActivities<WorkspaceActivities>({ ...this.options, taskQueue: this.queue, scheduleToStartTimeout: WORKSPACE_START_TIMEOUT }));
      } catch (err) {
        if (!isInfrastructureFailure(err) || pastDeadline()) throw err;
        log.warn('The worker holding the workspace is gone; acquiring a new one', { queue: this.queue, failure: describeFailure(err) });
        this.queue = undefined;
      }
    }
  }

  /** Removes the workspace from its worker; a worker that is gone leaves it to its sweep. */
  async release(taskId: string): Promise<void> {
    if (this.queue === undefined) return;
    const { releaseWorkspace } = proxyActivities<WorkspaceActivities>({
      startToCloseTimeout: '1 minute',
      scheduleToStartTimeout: WORKSPACE_START_TIMEOUT,
      retry: { maximumAttempts: 3 },
      taskQueue: this.queue,
    });
    this.queue = undefined;
    try {
      await releaseWorkspace({ taskId });
    } catch (err) {
      log.warn('Could not release the workspace; the worker sweep will remove it', { error: (err as Error).message });
    }
  }
}
