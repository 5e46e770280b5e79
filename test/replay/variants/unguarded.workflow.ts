/**
 * The task workflow with an incompatible change made the wrong way (test fixture of
 * test/replay/guard.test.ts): a timer before anything else, for every task — including those
 * already running, whose histories start with other commands.
 */
import { sleep } from '@temporalio/workflow';
import type { TaskExecutionInput, TaskExecutionResult } from '../../../src/domain/task';
import { taskExecutionWorkflow as current } from '../../../src/workflows/task-execution.workflow';

export async function taskExecutionWorkflow(input: TaskExecutionInput): Promise<TaskExecutionResult> {
  await sleep(1);
  return current(input);
}
