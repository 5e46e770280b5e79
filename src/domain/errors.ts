/**
 * ADO's one error vocabulary: every failure type it names, on `ApplicationFailure.type` (activity
 * and workflow failures) and on the errors its library, CLI and API raise; and `AdoError`, the
 * class they are thrown as. Pure: the workflow bundle imports the constants.
 */

export const FailureType = {
  /** Bad task input (empty prompt, unknown repository...). */
  InvalidInput: 'InvalidInput',
  /** A configuration file or setting that cannot be used as it is. */
  InvalidConfig: 'InvalidConfig',
  /** LLM output that failed validation even after its repair round-trip. */
  InvalidLlmOutput: 'InvalidLlmOutput',
  /** The coding agent's model sent tool calls that could not be used several turns in a row. */
  MalformedToolCalls: 'MalformedToolCalls',
  /** The LLM endpoint refused the credentials or the request (401/403/400). */
  LlmRejected: 'LlmRejected',
  /** The LLM endpoint was unreachable, overloaded or slow after the client's own retries; Temporal retries. */
  LlmUnavailable: 'LlmUnavailable',
  /** The scripted provider's transcript has no answer for this request. */
  TranscriptMismatch: 'TranscriptMismatch',
  /** A service asked ADO to slow down; the next attempt waits as long as it said. */
  RateLimited: 'RateLimited',
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
  /** Another process (or another store in this one) has the PGlite data directory open. */
  StoreLocked: 'StoreLocked',
  /** The database could not be reached or its schema could not be brought up to date. */
  StoreOpenFailed: 'StoreOpenFailed',
  /** An encrypted payload names a key the keyring does not hold. */
  UnknownCodecKey: 'UnknownCodecKey',
  /** An encrypted payload did not authenticate: altered, truncated, or encrypted with other key material. */
  PayloadDecryptionFailed: 'PayloadDecryptionFailed',
  /** A worker refused a payload that was not encrypted at all while payload encryption is on. */
  UnencryptedPayloadRefused: 'UnencryptedPayloadRefused',
  /** The Temporal server cannot be reached at the configured address. */
  TemporalUnreachable: 'TemporalUnreachable',
  /** No task (workflow) has the given id. */
  TaskNotFound: 'TaskNotFound',
  /** A task with this id is already running. */
  TaskAlreadyExists: 'TaskAlreadyExists',
  /** The task refused a decision: nothing pending, another checkpoint, a stale request, or it has ended. */
  DecisionRejected: 'DecisionRejected',
  /** A task cannot be resumed or migrated as asked. */
  NotRecoverable: 'NotRecoverable',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export interface AdoErrorOptions {
  cause?: unknown;
  /** Structured context that travels with the failure (`ApplicationFailure.details`). */
  details?: unknown[];
  /** A retryable error's wait before the next attempt, instead of the retry policy's interval. */
  nextRetryDelayMs?: number;
  /** Set by `nonRetryable()` (and by subclasses whose every error is so); never at a throw site. */
  nonRetryable?: boolean;
}

/**
 * Thrown by ADO code when an operation fails for a known reason, with a message that says what
 * to do. The worker turns it into an `ApplicationFailure` with the same type and retryability at
 * the activity edge; the CLI prints its message alone, and the API answers with its problem.
 */
export class AdoError extends Error {
  override readonly name: string = 'AdoError';
  constructor(
    readonly type: FailureTypeName,
    message: string,
    readonly options: AdoErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** Retrying cannot help: Temporal stops retrying the activity that threw it. */
  get nonRetryable(): boolean {
    return this.options.nonRetryable ?? false;
  }
}

/** `cause` and `details` only; an `Error` passed by mistake (the old third argument) does not compile. */
export type NonRetryableOptions = Pick<AdoErrorOptions, 'cause' | 'details'> & { message?: never; stack?: never };

/** The way to build an error that retrying cannot fix: bad input, unusable config, invalid LLM output... */
export function nonRetryable(type: FailureTypeName, message: string, options: NonRetryableOptions = {}): AdoError {
  // eslint-disable-next-line no-restricted-syntax -- the one place that sets it
  return new AdoError(type, message, { ...options, nonRetryable: true });
}

/** Temporal's wrappers say only where a failure happened ("Activity task failed"); their causes say what. */
const FAILURE_WRAPPERS = new Set(['ActivityFailure', 'ChildWorkflowFailure', 'WorkflowFailedError']);
/** A cause can be a whole zod issue list or a command's output: each part is cut to this. */
const MAX_PART_CHARS = 600;

/**
 * A failure in words for a human: ADO's own message first, then each cause after it
 * ("Cannot read the transcript …; cause: ENOENT: …"), leaving out Temporal's wrappers and
 * messages that only repeat an earlier one. Pure: the workflow uses it for `state.failure`.
 */
export function describeFailure(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    const message = current.message.trim();
    const wrapper = FAILURE_WRAPPERS.has(current.name) && current.cause !== undefined;
    if (message && !wrapper && !parts.some((part) => part.includes(message))) {
      parts.push(message.length > MAX_PART_CHARS ? `${message.slice(0, MAX_PART_CHARS)}…` : message);
    }
    current = current.cause;
  }
  if (typeof current === 'string' && current) parts.push(current);
  return parts.join('; cause: ') || (err instanceof Error ? err.name : String(err));
}
