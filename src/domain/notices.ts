/** What the notifiers are told: a task waits for a human, or a task has ended. */
import type { ApprovalRequest, TaskExecutionState } from './task';

export interface ApprovalNotice {
  taskId: string;
  workflowId: string;
  repository: string;
  request: ApprovalRequest;
}

export interface TaskOutcomeNotice {
  taskId: string;
  workflowId: string;
  state: TaskExecutionState;
}
