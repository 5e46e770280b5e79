/**
 * `HITLHandler` (the design's name, docs/architecture.md): how every channel (CLI, API, console, Slack, webhooks) talks to a
 * waiting task. Decisions go through the `decide` update by default, so the caller learns at once
 * whether the decision counted; the `humanApproval` signal is there for fire-and-forget senders.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { ApprovalDecision, TaskExecutionState } from '../domain/task';
import { cancelTaskSignal, decideUpdate, humanApprovalSignal, type DecisionAccepted } from '../workflows/messages';
import { DecisionRejectedError } from './errors';
import { TaskClient } from './task-client';

const NOTHING_TO_DECIDE = 'there is nothing to decide';
const NOTHING_TO_CANCEL = 'there is nothing to cancel';

export class HITLHandler {
  private readonly tasks: TaskClient;

  constructor(client: Client) {
    this.tasks = new TaskClient(client);
  }

  /**
   * Sends a decision for the pending checkpoint of `workflowId`. With `via: 'update'` (default)
   * resolves once the task accepted it and throws `DecisionRejectedError` when it did not; with
   * `via: 'signal'` resolves when the signal is delivered (an invalid decision is then ignored).
   * Either way a task that has finished throws `DecisionRejectedError` saying so.
   */
  async sendApproval(
    workflowId: string,
    decision: boolean | ApprovalDecision,
    options: { via?: 'update' | 'signal' } = {},
  ): Promise<DecisionAccepted | undefined> {
    const full: ApprovalDecision = typeof decision === 'boolean' ? { approved: decision } : decision;
    const handle = this.tasks.handle(workflowId);
    if (options.via === 'signal') {
      await this.tasks.withTask(workflowId, () => handle.signal(humanApprovalSignal, full), NOTHING_TO_DECIDE);
      return undefined;
    }
    try {
      return await this.tasks.withTask(workflowId, () => handle.executeUpdate(decideUpdate, { args: [full] }), NOTHING_TO_DECIDE);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new DecisionRejectedError(workflowId, err.cause?.message ?? err.message, { cause: err });
      }
      throw err;
    }
  }

  /** The `taskState` query. */
  getWorkflowState(workflowId: string): Promise<TaskExecutionState> {
    return this.tasks.state(workflowId);
  }

  /**
   * Cancels the task with Temporal's own cancellation (the run ends Cancelled, the running
   * activity is cancelled through its heartbeat, the sandbox is cleaned). `via: 'signal'` uses the
   * `cancelTask` signal instead, which carries who cancelled and why. A task that has
   * already ended (or is cleaning up after its end) throws `DecisionRejectedError` naming how it ended.
   */
  async cancelWorkflow(workflowId: string, options: { reason?: string; requestedBy?: string; via?: 'cancel' | 'signal' } = {}): Promise<void> {
    const ended = await this.tasks.ended(workflowId);
    if (ended !== undefined) throw new DecisionRejectedError(workflowId, `Task ${workflowId} has finished (${ended}); ${NOTHING_TO_CANCEL}.`);
    const handle = this.tasks.handle(workflowId);
    await this.tasks.withTask(
      workflowId,
      async () => {
        if (options.via === 'signal') await handle.signal(cancelTaskSignal, { reason: options.reason, requestedBy: options.requestedBy });
        else await handle.cancel();
      },
      NOTHING_TO_CANCEL,
    );
  }
}
