/**
 * The task workflow's messages, defined once: the workflow registers handlers for them and every
 * client (CLI, API, Slack, console) sends them by these definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentStep } from '../domain/agent-tools';
import type {
  ApprovalDecision,
  CheckpointName,
  CheckpointStatus,
  TaskExecutionState,
} from '../domain/task';

/** A human's decision at the pending checkpoint. Invalid or stale decisions are ignored (signals cannot reject). */
export const humanApprovalSignal = defineSignal<[ApprovalDecision]>('humanApproval');

/** Stops the task: the running activity is cancelled, the sandbox cleaned, the phase becomes `cancelled`. */
export const cancelTaskSignal = defineSignal<[{ reason?: string; requestedBy?: string }?]>('cancelTask');

export const taskStateQuery = defineQuery<TaskExecutionState>('taskState');

export const checkpointStatusQuery = defineQuery<CheckpointStatus>('checkpointStatus');

export interface DecisionAccepted {
  requestId: string;
  checkpoint: CheckpointName;
  approved: boolean;
}

/**
 * The same decision as `humanApproval`, but its validator rejects it, before anything is written to
 * history, when nothing is pending or the checkpoint or request id does not match; so the caller
 * learns at once whether its decision counted.
 */
export const decideUpdate = defineUpdate<DecisionAccepted, [ApprovalDecision]>('decide');


/** A coding session (child workflow) tells its task about each tool call as it finishes: `ado status` shows them. */
export const agentStepSignal = defineSignal<[{ sessionId: string; iteration: number; step: AgentStep }]>('agentStep');

/** A decision that cannot count, whatever the task waits for: the field at fault and what to do. */
export interface DecisionProblem {
  field: 'approved' | 'comment' | 'checkpoint' | 'revise';
  message: string;
}

/**
 * The rules of a decision's shape, the same for every channel (CLI, API, console, Slack,
 * webhooks, signals): each checks a decision with this before sending it, and the workflow
 * checks it again with what is pending (`pendingCheckpoint`), so all refuse alike.
 */
export function decisionProblem(decision: ApprovalDecision | undefined, pendingCheckpoint?: CheckpointName): DecisionProblem | undefined {
  if (typeof decision?.approved !== 'boolean') return { field: 'approved', message: 'A decision needs "approved": true or false.' };
  if (!decision.revise) return undefined;
  if (decision.approved) return { field: 'revise', message: 'Asking for changes (revise) goes with a rejection, not an approval: reject with revise and a comment.' };
  if (!decision.comment?.trim()) {
    return { field: 'comment', message: 'Asking for changes (revise) needs a comment saying what to change; the model is given it in its next prompt.' };
  }
  const checkpoint = decision.checkpoint ?? pendingCheckpoint;
  if (checkpoint !== undefined && checkpoint !== 'pr') {
    return {
      field: 'checkpoint',
      message: `Only a pull request (checkpoint "pr") can be sent back for changes, not checkpoint "${checkpoint}"; approve or reject it instead (the comment is recorded either way).`,
    };
  }
  return undefined;
}
