import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { AdoError } from '../domain/errors';

/**
 * Turns an `AdoError` thrown by an activity into an `ApplicationFailure` with the same type and
 * retryability, keeping the cause, so the workflow (and a human) sees why and retries stop when
 * retrying cannot help.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (!(err instanceof AdoError)) return err;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: err.nonRetryable,
    details: err.options.details,
    nextRetryDelay: err.options.nextRetryDelayMs,
    cause: err.cause instanceof Error ? err.cause : undefined,
  });
}

/** Activity interceptor applying `toApplicationFailure` at the activity edge, in one place. */
export class AdoErrorConversion implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      throw toApplicationFailure(err);
    }
  }
}
