/** `ado-review` activities: the repository's quality gates, and pull requests. */
import { repoGates } from '../gates/repo-gates';
import type { PullRequestProvider } from '../pr/provider';
import { sensitiveChanges, sensitiveChangesSection } from '../pr/sensitive-changes';
import type { Sandbox } from '../sandbox/types';
import type { Logger } from '../telemetry/logger';
import { localView } from '../workspace/shared-remote';
import type { WarmWorkspaces } from '../workspace/warm';
import { activityRun } from './context';
import type { ReviewActivities } from './interfaces';
import { loadBaseConfig, runCommands } from './repo-commands';
import { withTaskTree } from './task-tree';

export interface ReviewActivityDeps {
  logger: Logger;
  sandbox: Sandbox;
  pullRequests: PullRequestProvider;
  scratchDir: string;
  workspaces: WarmWorkspaces;
}

export function createReviewActivities(deps: ReviewActivityDeps): ReviewActivities {
  const { sandbox, pullRequests } = deps;
  return {
    async runQualityGates({ taskId, repo, baseSha }) {
      const run = activityRun(deps.logger, taskId);
      return withTaskTree(deps, taskId, repo, run, async ({ workspace, setup }) => {
        const config = await loadBaseConfig(workspace, taskId, baseSha);
        const gates = repoGates(config);
        if (gates.length === 0) run.logger.warn({ source: config.source }, 'The repository has no quality gates: nothing to check');
        const setupFailed = await setup(config, baseSha);
        if (setupFailed) return setupFailed;
        const outcome = await runCommands(sandbox, config, gates, workspace, run);
        run.logger.info({ passed: outcome.passed, gates: outcome.gates.map((g) => `${g.gate}:${g.passed ? 'pass' : 'fail'}`) }, 'Quality gates ran');
        return outcome;
      });
    },

    async createPullRequest(input) {
      const run = activityRun(deps.logger, input.taskId);
      const { remote, sha } = input.repo;
      const changes = await sensitiveChanges(await localView(remote), `refs/heads/${input.baseBranch}`, sha);
      const description = changes.length > 0 ? `${sensitiveChangesSection(changes)}\n\n${input.description}` : input.description;
      const pr = await pullRequests.open({ ...input, description });
      run.logger.info({ url: pr.url, sensitiveChanges: changes.length }, 'Pull request open');
      return changes.length > 0 ? { ...pr, sensitiveChanges: changes } : pr;
    },

    async mergePullRequest({ taskId, pullRequest }) {
      const run = activityRun(deps.logger, taskId);
      const merged = await pullRequests.merge(pullRequest);
      run.logger.info({ url: merged.url }, 'Pull request merged');
      return merged;
    },
  };
}
