/**
 * Failure types ADO puts on `ApplicationFailure.type`, and the error class activities throw.
 * Pure: the workflow bundle imports the constants.
 */

export const FailureType = {
  /** Bad task input (empty prompt, unknown repository...). */
  InvalidInput: 'InvalidInput',
  /** A configuration file or setting that cannot be used as it is. */
  InvalidConfig: 'InvalidConfig',
  /** LLM output that failed validation even after its repair round-trip. */
  InvalidLlmOutput: 'InvalidLlmOutput',
  /** The LLM endpoint refused the credentials or the request (401/403/400). */
  LlmRejected: 'LlmRejected',
  /** The scripted provider's transcript has no answer for this request. */
  TranscriptMismatch: 'TranscriptMismatch',
  /** A human rejected a checkpoint. */
  Rejected: 'Rejected',
  /** Nobody decided a checkpoint in time. */
  ApprovalTimeout: 'ApprovalTimeout',
  /** The same failure kept coming back and nobody (or a human) chose to continue. */
  Stuck: 'Stuck',
  /** The quality gates did not pass within `maxIterations`. */
  MaxIterationsExceeded: 'MaxIterationsExceeded',
  /** A budget was reached and a human chose to stop. */
  BudgetExceeded: 'BudgetExceeded',
  /** A git or forge operation that retrying cannot fix. */
  RepositoryError: 'RepositoryError',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/**
 * Thrown by ADO code when an operation fails for a known reason; the worker turns it into an
 * `ApplicationFailure` with the same type and retryability at the activity edge.
 */
export class AdoError extends Error {
  override readonly name: string = 'AdoError';
  constructor(
    /** A `FailureType` value, or a more specific type of the caller's. */
    readonly type: string,
    message: string,
    readonly options: { nonRetryable?: boolean; cause?: unknown; details?: unknown[]; nextRetryDelayMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  get nonRetryable(): boolean {
    return this.options.nonRetryable ?? false;
  }
}

/** Thrown when input, config or LLM output cannot be used; never retried. */
export function nonRetryable(type: string, message: string, cause?: unknown): AdoError {
  return new AdoError(type, message, { nonRetryable: true, cause });
}
