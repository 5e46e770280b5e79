/**
 * The same change as unguarded.workflow.ts made the right way: behind `patched()`, so tasks
 * started before it (their histories have no marker) replay as they ran, and new ones take it.
 */
import { patched, sleep } from '@temporalio/workflow';
import type { TaskExecutionInput, TaskExecutionResult } from '../../../src/domain/task';
import { taskExecutionWorkflow as current } from '../../../src/workflows/task-execution.workflow';

export async function taskExecutionWorkflow(input: TaskExecutionInput): Promise<TaskExecutionResult> {
  if (patched('replay-guard-example')) await sleep(1);
  return current(input);
}
