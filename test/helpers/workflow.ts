/** Helpers for tests that drive `taskExecutionWorkflow` through a real client. */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import type { CheckpointName, TaskExecutionInput, TaskExecutionState } from '../../src/domain/task';
import { workflowBundle } from '../../src/worker/workers';
import { taskStateQuery } from '../../src/workflows/messages';
import { taskExecutionWorkflow } from '../../src/workflows/task-execution.workflow';
import { uniqueTaskId } from './temporal';

export type TaskHandle = WorkflowHandle<typeof taskExecutionWorkflow>;

export function taskInput(overrides: Partial<TaskExecutionInput> = {}): TaskExecutionInput {
  return {
    taskId: uniqueTaskId(),
    prompt: 'Add input validation to the signup form',
    repository: '/srv/repos/app',
    branch: 'main',
    hitlEnabled: false,
    ...overrides,
  };
}

export function startTask(client: Client, taskQueue: string, input: TaskExecutionInput): Promise<TaskHandle> {
  return client.workflow.start(taskExecutionWorkflow, { taskQueue, workflowId: input.taskId, args: [input] });
}

/** Polls `probe` until it returns a value. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the task asks for a decision at `checkpoint`; returns the pending request. */
export async function pendingApproval(handle: TaskHandle, checkpoint: CheckpointName, timeoutMs?: number) {
  let last: TaskExecutionState | undefined;
  try {
    return await waitFor(
      async () => {
        last = await handle.query(taskStateQuery);
        return last.pendingApproval?.checkpoint === checkpoint ? last.pendingApproval : undefined;
      },
      `an approval request at "${checkpoint}"`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} in ${handle.workflowId} (phase ${last?.phase}, failure ${last?.failure ?? 'none'})`, { cause: err });
  }
}

export function stateOf(handle: TaskHandle): Promise<TaskExecutionState> {
  return handle.query(taskStateQuery);
}

/** The ApplicationFailure at the root of a failed task (walks WorkflowFailedError → ActivityFailure → …). */
export async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected the task to fail, got ${String(err)}`);
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  assert.ok(cause instanceof ApplicationFailure, `expected an ApplicationFailure at the root, got ${String(cause)}`);
  return cause;
}

/**
 * Replays the task's whole history on the current workflow code, as a worker does to answer a
 * query once the task has left its cache; throws on a nondeterminism error.
 */
export async function expectReplays(handle: TaskHandle): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle({ prebuilt: process.env.ADO_WORKFLOW_BUNDLE }) }, await handle.fetchHistory(), handle.workflowId);
}
