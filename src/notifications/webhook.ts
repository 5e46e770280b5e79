/**
 * Webhooks: approval requests and task outcomes POSTed as signed JSON to every configured URL.
 *
 * Headers: `X-ADO-Timestamp` (unix seconds), `X-ADO-Signature: v1=<hex HMAC-SHA256 of
 * "{timestamp}.{body}" with ADO_WEBHOOK_SECRET>`, `X-ADO-Delivery` (the same for every attempt
 * of one event: receivers drop duplicates by it) and `X-ADO-Event` (the event type).
 * A receiver answers a request with `POST /webhooks/decision` (src/api/channels/webhook-decisions.ts).
 */
import { createHash } from 'node:crypto';
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import { ADO_SIGNATURE } from './signature';
import type { ApprovalRequest, TaskPhase, TokenUsage } from '../domain/task';
import type { Notifier } from './notifier';

/** Sent when a task waits for a decision. */
export interface ApprovalRequestedEvent {
  type: 'approval.requested';
  deliveryId: string;
  taskId: string;
  workflowId: string;
  repository: string;
  /** Answer with `{taskId, requestId: request.id, approved}` to `/webhooks/decision`. */
  request: ApprovalRequest;
}

/** Sent once when a task completes, fails or is cancelled. */
export interface TaskEndedEvent {
  type: 'task.ended';
  deliveryId: string;
  taskId: string;
  workflowId: string;
  repository: string;
  phase: TaskPhase;
  failure?: string;
  pullRequestUrl?: string;
  iterations: number;
  usage: TokenUsage;
  startedAt: string;
  endedAt: string;
}

/** Every event body ADO POSTs; `type` tells them apart (also in the `X-ADO-Event` header). */
export type WebhookEvent = ApprovalRequestedEvent | TaskEndedEvent;

/** An id that names one event, the same on every retry. */
function deliveryId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

function approvalRequestedEvent({ taskId, workflowId, repository, request }: ApprovalNotice): ApprovalRequestedEvent {
  return { type: 'approval.requested', deliveryId: deliveryId(`approval.requested:${workflowId}:${request.id}`), taskId, workflowId, repository, request };
}

function taskEndedEvent({ taskId, workflowId, state }: TaskOutcomeNotice): TaskEndedEvent {
  return {
    type: 'task.ended',
    deliveryId: deliveryId(`task.ended:${workflowId}:${state.startedAt}`),
    taskId,
    workflowId,
    repository: state.repository,
    phase: state.phase,
    failure: state.failure,
    pullRequestUrl: state.pullRequest?.url,
    iterations: state.attempts,
    usage: state.usage,
    startedAt: state.startedAt,
    endedAt: state.updatedAt,
  };
}

/** One receiver that did not take an event: which (origin only), its HTTP status, and why. */
export interface DeliveryFailure {
  receiver: string;
  status?: number;
  reason: string;
}

/** Thrown when one or more receivers did not answer 2xx; the activity retries with backoff. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    readonly failures: readonly DeliveryFailure[],
    total: number,
    options?: { cause?: unknown },
  ) {
    super(`Webhook delivery failed for ${failures.length} of ${total} receiver(s): ${failures.map((f) => `${f.receiver} ${f.reason}`).join('; ')}`, options);
  }
}

type FailedPost = DeliveryFailure & { cause?: unknown };

export interface WebhookNotifierOptions {
  urls: readonly string[];
  secret: string;
  /** Per POST; below the notification activity's 15 s. */
  timeoutMs?: number;
}

/**
 * POSTs every event to every URL, in parallel. Any non-2xx answer or network error throws (after
 * all were tried), so the activity retries with backoff: receivers see at-least-once delivery,
 * with the same `X-ADO-Delivery` on each attempt.
 */
export class WebhookNotifier implements Notifier {
  readonly name = 'webhook';

  constructor(private readonly options: WebhookNotifierOptions) {}

  approvalRequested(notice: ApprovalNotice): Promise<void> {
    return this.deliver(approvalRequestedEvent(notice));
  }

  taskEnded(notice: TaskOutcomeNotice): Promise<void> {
    return this.deliver(taskEndedEvent(notice));
  }

  private async deliver(event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'ADO-Webhooks',
      [ADO_SIGNATURE.timestampHeader]: timestamp,
      [ADO_SIGNATURE.signatureHeader]: ADO_SIGNATURE.sign(this.options.secret, timestamp, body),
      'X-ADO-Delivery': event.deliveryId,
      'X-ADO-Event': event.type,
    };
    const { urls } = this.options;
    const outcomes = await Promise.all(urls.map((url, i) => this.post(url, `#${i + 1}`, body, headers)));
    const failures = outcomes.filter((f): f is FailedPost => f !== undefined);
    if (failures.length) {
      throw new WebhookDeliveryError(failures.map(({ receiver, status, reason }) => ({ receiver, status, reason })), urls.length, { cause: failures[0]?.cause });
    }
  }

  /** POSTs once; says why when the receiver did not take it. */
  private async post(url: string, label: string, body: string, headers: Record<string, string>): Promise<FailedPost | undefined> {
    // Only the origin: webhook URLs often carry a secret in their path or query.
    const receiver = `${label} (${new URL(url).origin})`;
    let response: Response;
    try {
      // Redirects are not followed: a signed event goes where it was configured to go, or fails.
      response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? 'did not answer in time' : `could not be reached (${describeNetworkError(err)})`;
      return { receiver, reason, cause: err };
    }
    if (response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const excerpt = (await response.text().catch(() => '')).trim().slice(0, 200);
    return { receiver, status: response.status, reason: `answered ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ''}` };
  }
}

/** fetch says "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND...) is in its cause. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
