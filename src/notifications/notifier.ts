/**
 * Where ADO tells people that a task needs them or has ended: the console/log always, Slack and
 * webhooks when configured. `requestHumanApproval` and `notifyTaskOutcome` fan out to all.
 */
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import { AdoError } from '../domain/errors';

export interface Notifier {
  readonly name: string;
  approvalRequested(notice: ApprovalNotice): Promise<void>;
  taskEnded(notice: TaskOutcomeNotice): Promise<void>;
}

/**
 * Sends to every notifier; one failing does not stop the others. Afterwards a failure is rethrown
 * so the activity retries — a retryable one first, so that one notifier's configuration error
 * does not stop another's passing outage from being retried (notifiers must be idempotent or
 * cheap to repeat: a retry sends to all of them again).
 */
export async function notifyAll(notifiers: readonly Notifier[], send: (n: Notifier) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(notifiers.map(send));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const retryable = failures.find((err) => !(err instanceof AdoError && err.nonRetryable));
  if (failures.length) throw retryable ?? failures[0];
}
