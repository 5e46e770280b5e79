/**
 * Where ADO tells people that a task needs them or has ended: the console/log always, Slack and
 * webhooks when configured. `requestHumanApproval` and `notifyTaskOutcome` fan out to all.
 */
import type { ApprovalNotice, TaskOutcomeNotice } from '../activities/interfaces';

export interface Notifier {
  readonly name: string;
  approvalRequested(notice: ApprovalNotice): Promise<void>;
  taskEnded(notice: TaskOutcomeNotice): Promise<void>;
}

/**
 * Sends to every notifier; one failing does not stop the others, and the first failure is
 * rethrown afterwards so the activity retries (each notifier must be idempotent or cheap to repeat).
 */
export async function notifyAll(notifiers: readonly Notifier[], send: (n: Notifier) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(notifiers.map(send));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
