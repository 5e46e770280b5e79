/**
 * Errors the client library throws for situations a user can act on. Each is an `AdoError` with
 * its own failure type, so the CLI (one line) and the API (a problem document) report them as
 * they report every other `AdoError`: one list, in src/domain/errors.ts.
 */
import { AdoError, FailureType } from '../domain/errors';

/** Thrown when the Temporal server cannot be reached at the configured address. */
export class TemporalUnreachableError extends AdoError {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(
      FailureType.TemporalUnreachable,
      `Cannot reach the Temporal server at ${address}. Start the embedded stack with \`ado dev\`, or point ADO at your server with TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or TLS settings) or a profile (TEMPORAL_PROFILE).`,
      options,
    );
  }
}

/** Thrown when no task (workflow) has the given id. */
export class TaskNotFoundError extends AdoError {
  override readonly name = 'TaskNotFoundError';
  constructor(
    readonly taskId: string,
    readonly namespace: string,
    options?: { cause?: unknown },
  ) {
    super(FailureType.TaskNotFound, `No task with id "${taskId}" in namespace "${namespace}". \`ado list\` shows the tasks.`, options);
  }
}

/** Thrown when the task refused a decision (nothing pending, another checkpoint, stale request). */
export class DecisionRejectedError extends AdoError {
  override readonly name = 'DecisionRejectedError';
  constructor(
    readonly taskId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(FailureType.DecisionRejected, message, options);
  }
}

/** Thrown when a task input fails validation at the edge; nothing was started. */
export class InvalidTaskInputError extends AdoError {
  override readonly name = 'InvalidTaskInputError';
  /** The input field at fault (`repository`, `branch`…), when one is. */
  readonly field?: string;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super(FailureType.InvalidInput, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.field = options?.field;
  }
}

/** Thrown when a task id was used already, by a running task or by one that has ended: an id names one task forever. */
export class TaskAlreadyExistsError extends AdoError {
  override readonly name = 'TaskAlreadyExistsError';
  constructor(
    readonly taskId: string,
    /** How the existing task ended (Temporal's status), or undefined while it runs. */
    readonly ended?: string,
    options?: { cause?: unknown },
  ) {
    super(
      FailureType.TaskAlreadyExists,
      ended === undefined
        ? `A task with id "${taskId}" is already running; follow it with \`ado status ${taskId}\`, or start a new task with another --task-id (or none: one is generated).`
        : `Task id "${taskId}" was used by a task that has ended (${ended}); a task id names one task forever. Start a new task with another --task-id (or none: one is generated), or continue this one with \`ado resume ${taskId}\`.`,
      options,
    );
  }
}

/** Thrown when a task cannot be resumed or migrated as asked; the message says why and what to do. */
export class RecoveryError extends AdoError {
  override readonly name = 'RecoveryError';
  constructor(message: string) {
    super(FailureType.NotRecoverable, message);
  }
}
