/**
 * Workflow interceptor module, bundled with the workflow code (see src/worker/workers.ts): every
 * `log` line of a task's workflow carries its `taskId` beside the SDK's workflowId and runId. The
 * id comes from the workflow's input, not its workflow id: a resumed task may run under another.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { taskIdOf } from './task-id';

export const interceptors: WorkflowInterceptorsFactory = () => {
  let taskId: string | undefined;
  return {
    inbound: [
      {
        execute(input, next) {
          taskId = taskIdOf(input.args[0]);
          return next(input);
        },
      },
    ],
    outbound: [
      {
        getLogAttributes(attributes, next) {
          return next(taskId === undefined ? attributes : { ...attributes, taskId });
        },
      },
    ],
  };
};
