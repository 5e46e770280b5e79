/** The notifier that is always on: a log line, and a short block on the worker's terminal. */
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import type { Logger } from '../telemetry/logger';
import type { Notifier } from './notifier';

export class ConsoleNotifier implements Notifier {
  readonly name = 'console';

  constructor(
    private readonly logger: Logger,
    private readonly out: NodeJS.WritableStream | undefined = process.stdout.isTTY ? process.stdout : undefined,
  ) {}

  async approvalRequested({ taskId, workflowId, request }: ApprovalNotice): Promise<void> {
    this.logger.info({ taskId, workflowId, checkpoint: request.checkpoint, requestId: request.id, expiresAt: request.expiresAt }, 'Approval requested');
    this.out?.write(
      [
        ``,
        `  Task ${taskId} waits for approval at "${request.checkpoint}" (until ${request.expiresAt}):`,
        ...request.context.split('\n').slice(0, 12).map((line) => `    │ ${line}`),
        `    approve: ado approve ${taskId} --checkpoint ${request.checkpoint}`,
        `    reject:  ado reject ${taskId} --checkpoint ${request.checkpoint} --comment "<why>"`,
        ``,
      ].join('\n') + '\n',
    );
  }

  async taskEnded({ taskId, workflowId, state }: TaskOutcomeNotice): Promise<void> {
    this.logger.info({ taskId, workflowId, phase: state.phase, failure: state.failure, pullRequest: state.pullRequest?.url }, 'Task ended');
  }
}
