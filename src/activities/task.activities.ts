/**
 * `ado-tasks` activities: planning and decomposition (LLM), approvals and checkpoints (store and
 * notifiers). Built by a factory from their dependencies; the worker wires them.
 */
import { AdoError, FailureType } from '../domain/errors';
import { chatStructured } from '../llm/structured';
import { decomposePrompt, planPrompt, subtasksAnswerSchema } from '../llm/prompts';
import type { LlmClient } from '../llm/types';
import { notifyAll, type Notifier } from '../notifications/notifier';
import type { AdoStore } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { Workspace } from '../workspace/workspace';
import { activityRun } from './context';
import type { TaskActivities } from './interfaces';
import { promptFiles } from './prompt-files';

export interface TaskActivityDeps {
  logger: Logger;
  llm: LlmClient;
  store: AdoStore;
  notifiers: readonly Notifier[];
  /** Where workspaces are checked out (to show the planner the repository). */
  scratchDir: string;
}

export function createTaskActivities(deps: TaskActivityDeps): TaskActivities {
  const { llm, store, notifiers, scratchDir } = deps;
  return {
    async planTask({ taskId, prompt, repo }) {
      const run = activityRun(deps.logger, taskId);
      const workspace = await Workspace.checkout(repo, scratchDir, { logger: run.logger });
      try {
        const files = await promptFiles(workspace, [prompt], { includeSmallRepo: true });
        const answer = await llm.chat({
          role: 'planner',
          purpose: 'plan',
          taskId,
          messages: planPrompt({ prompt, repository: repo.repository, files }),
          signal: run.signal,
          onProgress: run.onProgress,
        });
        const content = answer.content.trim();
        // A blank answer is worth asking again (Temporal retries); a bad endpoint fails elsewhere.
        if (!content) throw new AdoError(FailureType.InvalidLlmOutput, `The planner model (${answer.model}) answered with an empty plan.`);
        run.logger.info({ tokens: answer.usage.totalTokens }, 'Plan written');
        return { content, usage: answer.usage };
      } finally {
        await workspace.dispose();
      }
    },

    async decomposeTask({ taskId, prompt, plan }) {
      const run = activityRun(deps.logger, taskId);
      const { value, usage } = await chatStructured(
        llm,
        { role: 'planner', purpose: 'decompose', taskId, messages: decomposePrompt({ prompt, plan }), json: true, signal: run.signal, onProgress: run.onProgress },
        subtasksAnswerSchema,
      );
      run.logger.info({ subtasks: value.subtasks.length }, 'Plan decomposed');
      return { subtasks: value.subtasks, usage };
    },

    async requestHumanApproval(notice) {
      await notifyAll(notifiers, (n) => n.approvalRequested(notice));
    },

    async recordApprovalDecision({ taskId, workflowId, request, decision, decidedAt }) {
      await store.approvals.record({
        requestId: request.id,
        taskId,
        workflowId,
        checkpoint: request.checkpoint,
        approved: decision.approved,
        reviewer: decision.reviewer,
        comment: decision.comment,
        channel: decision.channel ?? 'signal',
        context: request.context,
        requestedAt: new Date(request.requestedAt),
        decidedAt: new Date(decidedAt),
      });
    },

    async saveCheckpoint({ taskId, workflowId, runId, phase, data }) {
      const run = activityRun(deps.logger, taskId);
      await store.tasks.upsert({ taskId, workflowId, runId, repository: data.repository, prompt: data.prompt, phase, hitlEnabled: data.hitlEnabled });
      // The activity's retry-stable key: a retried save writes the same checkpoint once.
      return store.checkpoints.save({ id: run.key, taskId, workflowId, runId, phase, timestamp: new Date(), data });
    },

    async notifyTaskOutcome(notice) {
      await notifyAll(notifiers, (n) => n.taskEnded(notice));
    },
  };
}
