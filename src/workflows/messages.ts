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
