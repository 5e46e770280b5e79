/**
 * What a watcher of a task learns, as events: phase changes, approval requests and decisions,
 * the whole state whenever it changed, and how the task ended. Found by polling the `taskState`
 * query, so nothing depends on which process runs the workflow.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskNotFoundError } from '../client/errors';
import { changesBetween, type TaskChange } from '../client/task-changes';
import type { TaskClient, TaskOutcome } from '../client/task-client';
import { progressKey, type RunningActivity } from '../domain/progress';
import type { TaskExecutionState } from '../domain/task';
import type { Logger } from '../telemetry/logger';

/** One server-sent event: its name and its JSON data (`progress`: what runs now, when that changed). */
export type TaskEvent = TaskChange | { event: 'progress'; data: RunningActivity[] } | { event: 'end'; data: TaskOutcome };

export interface WatchOptions {
  tasks: TaskClient;
  /** The state the watcher already has. */
  initial: TaskExecutionState;
  emit: (event: TaskEvent) => void;
  /** Stops watching (the client went away). */
  signal: AbortSignal;
  pollMs: number;
  logger: Logger;
}

/**
 * Emits the task's changes until it ends (then an `end` event with its outcome) or `signal`
 * aborts. A failed poll is tried again at the next tick (logged once per run of failures).
 */
export async function watchTask(options: WatchOptions): Promise<void> {
  const { tasks, emit, signal } = options;
  const taskId = options.initial.taskId;
  const handle = tasks.handle(taskId);
  let previous = options.initial;
  let shown = '';
  let failing = false;
  while (!signal.aborted) {
    try {
      await sleep(options.pollMs, undefined, { signal });
      // Status first: a task that ended is then seen with its final state.
      const description = await tasks.withTask(taskId, () => handle.describe());
      const running = description.status.name === 'RUNNING';
      const state = await tasks.state(taskId);
      for (const event of changesBetween(previous, state)) emit(event);
      previous = state;
      const now = await tasks.running(description);
      // The seconds a watcher counts itself.
      const key = progressKey(now);
      if (key !== shown) emit({ event: 'progress', data: now });
      shown = key;
      failing = false;
      if (!running) {
        emit({ event: 'end', data: await tasks.outcome(taskId) });
        return;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof TaskNotFoundError) throw err;
      if (!failing) options.logger.warn({ err, taskId }, 'Watching a task: poll failed; trying again');
      failing = true;
    }
  }
}
