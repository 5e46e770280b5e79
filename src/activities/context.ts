/** What every long activity needs from its Temporal context: heartbeats, cancellation, a logger. */
import { Context } from '@temporalio/activity';
import type { ActivityProgress } from '../domain/progress';
import type { Logger } from '../telemetry/logger';

export interface ActivityRun {
  /** Aborted when the activity is cancelled (delivered with a heartbeat response). */
  signal: AbortSignal;
  /** Heartbeats: call it while waiting on anything slow. */
  onProgress: () => void;
  /** Says what the activity does now; every heartbeat from then on carries it (domain/progress.ts). */
  report: (doing: string) => void;
  /** Child logger: every line carries the task and workflow ids. */
  logger: Logger;
  /** Retry-stable id of this activity within its workflow run. */
  key: string;
}

/** The current activity's heartbeat, cancellation and logger. */
export function activityRun(base: Logger, taskId: string): ActivityRun {
  const ctx = Context.current();
  const { workflowExecution, activityId, activityType, attempt } = ctx.info;
  const workflowId = workflowExecution?.workflowId ?? taskId;
  let progress: ActivityProgress | undefined;
  return {
    signal: ctx.cancellationSignal,
    // The server keeps the last details it got: each heartbeat repeats them.
    onProgress: () => ctx.heartbeat(progress),
    report: (doing) => {
      if (doing === progress?.doing) return;
      progress = { doing, since: new Date().toISOString() };
      ctx.heartbeat(progress);
    },
    logger: base.child({ taskId, workflowId, activity: activityType, attempt }),
    key: `${workflowId}/${workflowExecution?.runId ?? ''}/${activityId}`,
  };
}

/**
 * Resolves as `work` does, heartbeating every `everyMs` meanwhile: a first fetch or checkout of a
 * big repository reports no progress of its own, and must not look like a dead worker.
 */
export async function heartbeatWhile<T>(run: ActivityRun, work: Promise<T>, everyMs = 5000): Promise<T> {
  const timer = setInterval(run.onProgress, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
