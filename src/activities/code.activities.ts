/**
 * `ado-code` activities: the task's workspace in the shared remote and the warm one on a worker,
 * code generation (LLM + edits + commit and push) and sandboxed execution, on the task's tree
 * (see task-tree.ts).
 */
import { Context } from '@temporalio/activity';
import { queuePrefixOf, workspaceQueue } from '../domain/task';
import { loadRepoConfig } from '../gates/config';
import { toGate } from '../gates/repo-gates';
import { codeAnswerSchema, codePrompt } from '../llm/prompts';
import { chatStructured } from '../llm/structured';
import type { LlmClient } from '../llm/types';
import type { Sandbox } from '../sandbox/types';
import type { PullRequestProvider } from '../pr/provider';
import type { Logger } from '../telemetry/logger';
import { applyEdits } from '../workspace/edits';
import { gitOrNull } from '../workspace/git';
import type { GitRemotes } from '../workspace/remotes';
import { localView } from '../workspace/shared-remote';
import type { WarmWorkspaces } from '../workspace/warm';
import { commitMessage } from '../workspace/workspace';
import { createAgentActivities, type AgentActivityDeps } from './agent.activities';
import { activityRun, heartbeatWhile } from './context';
import type { CodeActivities } from './interfaces';
import { promptFiles } from './prompt-files';
import { loadBaseConfig, runCommands } from './repo-commands';
import { exclusively, warmTree, withTaskTree } from './task-tree';

export interface CodeActivityDeps extends AgentActivityDeps {
  logger: Logger;
  llm: LlmClient;
  sandbox: Sandbox;
  remotes: GitRemotes;
  scratchDir: string;
  workspaces: WarmWorkspaces;
  /** Checks at task start that a pull request could be opened (token, push access). */
  pullRequests: Pick<PullRequestProvider, 'preflight'>;
}

export function createCodeActivities(deps: CodeActivityDeps): CodeActivities {
  const { llm, sandbox, remotes, workspaces } = deps;
  return {
    ...createAgentActivities(deps),

    async prepareWorkspace({ taskId, repository, branch, startSha }) {
      const run = activityRun(deps.logger, taskId);
      // What only a worker knows, checked before any model call: its model configuration, that
      // a pull request could be opened (a GitHub token that may push), and the repository's
      // config at the base commit (read by every later activity).
      if (llm.unusable) throw llm.unusable;
      await deps.pullRequests.preflight?.({ repository });
      const imported = await heartbeatWhile(run, remotes.importRepository(repository, branch));
      const view = await localView(imported.remote);
      await loadRepoConfig((name) => gitOrNull(['show', `${imported.baseSha}:${name}`], { cwd: view, keepTrailingNewline: true }));
      const taskBranch = `ado/${taskId}`;
      // A new run starts its branch afresh (at the base, or where a resumed task left off).
      const sha = await remotes.ensureTaskBranch(imported.remote, taskBranch, startSha ?? imported.baseSha, { reset: true });
      run.logger.info({ remote: imported.remote, taskBranch, sha }, 'Workspace prepared');
      return {
        repo: { repository, remote: imported.remote, sha },
        baseBranch: imported.baseBranch,
        baseSha: imported.baseSha,
        taskBranch,
      };
    },

    async acquireWorkspace({ taskId, repo, baseSha }) {
      const run = activityRun(deps.logger, taskId);
      const taskQueue = workspaceQueue(queuePrefixOf(Context.current().info.taskQueue, 'code'), workspaces.workerId);
      return exclusively(deps, taskId, run, async () => {
        const tree = await warmTree(deps, taskId, repo, run);
        const config = await loadBaseConfig(tree.workspace, taskId, baseSha);
        if (!config.setup) return { taskQueue, setup: 'none' as const };
        // A failed setup is not this activity's failure: the gates run it again and report it.
        const failed = await tree.setup(config, baseSha);
        run.logger.info({ taskQueue, setupPassed: !failed }, 'Workspace acquired');
        return { taskQueue, setup: failed ? ('failed' as const) : ('passed' as const) };
      });
    },

    async releaseWorkspace({ taskId }) {
      await workspaces.release(taskId);
    },

    async generateCode({ taskId, prompt, plan, subtasks, previousErrors, guidance = [], iteration, repo, taskBranch }) {
      const run = activityRun(deps.logger, taskId);
      return withTaskTree(deps, taskId, repo, run, async ({ workspace }) => {
        const hints = [plan, ...subtasks.flatMap((s) => [s.description, ...(s.files ?? [])]), ...previousErrors.map((e) => e.message), ...guidance];
        const files = await promptFiles(workspace, hints, { includeSmallRepo: true });
        const { value, usage } = await chatStructured(
          llm,
          {
            role: 'coder',
            purpose: 'code',
            taskId,
            iteration,
            messages: codePrompt({ prompt, plan, subtasks, files, previousErrors, guidance, iteration }),
            json: true,
            signal: run.signal,
            onProgress: run.onProgress,
          },
          codeAnswerSchema,
        );
        // An edit may write a file git ignores, never committed, or one setup installed.
        workspace.wroteFiles();
        const applied = await applyEdits(workspace.dir, value.edits);
        const sha = await workspace.commitAndPush({
          branch: taskBranch,
          message: commitMessage(taskId, iteration, value.summary),
        });
        run.logger.info({ iteration, sha, applied: applied.applied.length, failed: applied.errors.length }, 'Code generated');
        return { sha, summary: value.summary, filesChanged: applied.applied, editErrors: applied.errors, usage };
      });
    },

    async executeCode({ taskId, repo, baseSha }) {
      const run = activityRun(deps.logger, taskId);
      const started = Date.now();
      return withTaskTree(deps, taskId, repo, run, async ({ workspace, setup }) => {
        const config = await loadBaseConfig(workspace, taskId, baseSha);
        if (!config.execute) return { success: true, skipped: true, durationMs: 0 };
        const setupFailed = await setup(config, baseSha);
        const outcome = setupFailed ?? (await runCommands(sandbox, config, [{ name: 'execute', ...toGate(config.execute) }], workspace, run));
        return { success: outcome.passed, skipped: false, error: outcome.failures[0], durationMs: Date.now() - started };
      });
    },
  };
}
