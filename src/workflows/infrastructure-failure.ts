/** Failures that are no activity's own doing, for workflow code (deterministic: no I/O). */
import { ActivityFailure, CancellationScope, CancelledFailure, TimeoutFailure, workflowInfo } from '@temporalio/workflow';

/**
 * Whether an activity failed because no worker finished it, rather than by its own doing: its
 * worker died (heartbeat timeout), none took it in time (schedule-to-start timeout), or its worker
 * shut down (a cancellation the task did not ask for).
 */
export function isInfrastructureFailure(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return cause.timeoutType === 'HEARTBEAT' || cause.timeoutType === 'SCHEDULE_TO_START';
  return cause instanceof CancelledFailure && !CancellationScope.current().consideredCancelled;
}

/** Whether the task's execution timeout, when it has one, has passed. */
export function pastDeadline(): boolean {
  const expires = workflowInfo().executionExpirationTime;
  return expires !== undefined && Date.now() >= expires.getTime();
}
