/**
 * What changed in a task between two reads of its `taskState`: the one diff behind both
 * `TaskClient.follow` (the CLI) and the API's event stream.
 */
import type { AgentStep } from '../domain/agent-tools';
import type { ApprovalRecord, ApprovalRequest, PhaseChange, TaskExecutionState } from '../domain/task';

/** One change, named as the API's server-sent events name it. */
export type TaskChange =
  | { event: 'state'; data: TaskExecutionState }
  | { event: 'phase'; data: PhaseChange }
  | { event: 'approval'; data: ApprovalRequest }
  | { event: 'decision'; data: ApprovalRecord };

/**
 * The changes that lead from `before` (undefined: nothing seen yet) to `after`: each new decision
 * and phase in the order they happened (from the task's own histories, so none is missed between
 * reads), a new approval request, then the new state.
 */
export function changesBetween(before: TaskExecutionState | undefined, after: TaskExecutionState): TaskChange[] {
  // A decision and the phase change it causes can carry the same time: the decision goes first.
  const timed: Array<{ at: string; change: TaskChange }> = [
    ...after.approvals.slice(before?.approvals.length ?? 0).map((data) => ({ at: data.decidedAt, change: { event: 'decision' as const, data } })),
    ...after.phaseHistory.slice(before?.phaseHistory.length ?? 0).map((data) => ({ at: data.at, change: { event: 'phase' as const, data } })),
  ];
  const changes = timed.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).map((t) => t.change);
  if (after.pendingApproval && after.pendingApproval.id !== before?.pendingApproval?.id) changes.push({ event: 'approval', data: after.pendingApproval });
  if (changes.length > 0 || JSON.stringify(before) !== JSON.stringify(after)) changes.push({ event: 'state', data: after });
  return changes;
}

/**
 * The tool calls of the agent's coding session that `after` shows and `before` did not: the
 * steps after the last one seen, or all of them when a new session (the next iteration) began.
 */
export function newSessionSteps(before: TaskExecutionState | undefined, after: TaskExecutionState): AgentStep[] {
  const session = after.session;
  if (!session) return [];
  const seen = before?.session?.workflowId === session.workflowId ? (before.session.steps.at(-1)?.index ?? 0) : 0;
  return session.steps.filter((step) => step.index > seen);
}
