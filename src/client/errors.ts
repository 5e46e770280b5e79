/**
 * Errors the client library throws for situations a user can act on; the CLI and the API turn
 * them into one line (or a problem document) that says what to do.
 */

/** Thrown when the Temporal server cannot be reached at the configured address. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot reach the Temporal server at ${address}. Start the embedded stack with \`ado dev\`, or point ADO at your server with TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or TLS settings) or a profile (TEMPORAL_PROFILE).`,
      options,
    );
  }
}

/** Thrown when no task (workflow) has the given id. */
export class TaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  constructor(
    readonly taskId: string,
    readonly namespace: string,
    options?: { cause?: unknown },
  ) {
    super(`No task with id "${taskId}" in namespace "${namespace}". \`ado list\` shows the tasks.`, options);
  }
}

/** Thrown when the task refused a decision (nothing pending, another checkpoint, stale request). */
export class DecisionRejectedError extends Error {
  override readonly name = 'DecisionRejectedError';
  constructor(
    readonly taskId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown when a task input fails validation at the edge; nothing was started. */
export class InvalidTaskInputError extends Error {
  override readonly name = 'InvalidTaskInputError';
}

/** Thrown when a task with this id is already running. */
export class TaskAlreadyExistsError extends Error {
  override readonly name = 'TaskAlreadyExistsError';
  constructor(
    readonly taskId: string,
    options?: { cause?: unknown },
  ) {
    super(`A task with id "${taskId}" is already running; choose another --task-id or follow it with \`ado status ${taskId}\`.`, options);
  }
}
