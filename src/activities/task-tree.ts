/**
 * The working tree an activity uses. On a worker's workspace queue it is the task's warm
 * workspace, kept for the task's next activity, where `setup` runs only when what it installs
 * changed; anywhere else (activities scheduled by workflows from before warm workspaces) a fresh
 * checkout, removed afterwards, where `setup` runs every time.
 */
import { Context } from '@temporalio/activity';
import type { QualityGatesResult } from '../domain/quality-gates';
import type { RepoRef } from '../domain/repo-ref';
import { isWorkspaceQueue } from '../domain/task';
import type { RepoConfig } from '../gates/config';
import type { Sandbox } from '../sandbox/types';
import { dependencyCacheKey, setupKey, type WarmWorkspaces } from '../workspace/warm';
import { Workspace } from '../workspace/workspace';
import { heartbeatWhile, type ActivityRun } from './context';
import { runSetup } from './repo-commands';

export interface TaskTreeDeps {
  sandbox: Sandbox;
  scratchDir: string;
  workspaces: WarmWorkspaces;
}

export interface TaskTree {
  workspace: Workspace;
  /**
   * Readies the tree for the repository's commands to judge it: drops what earlier commands left in
   * a warm tree, and runs `setup` when the tree needs it; its failure as a gate outcome, else
   * undefined. `baseSha`, the task's base commit, lets a warm tree share setup's output with other
   * tasks while it holds exactly that commit's files.
   */
  setup: (config: RepoConfig, baseSha?: string) => Promise<QualityGatesResult | undefined>;
}

/** Runs `use` on the task's tree at `ref.sha` (see the module comment for which tree). */
export async function withTaskTree<T>(deps: TaskTreeDeps, taskId: string, ref: RepoRef, run: ActivityRun, use: (tree: TaskTree) => Promise<T>): Promise<T> {
  if (isWorkspaceQueue(Context.current().info.taskQueue)) return exclusively(deps, taskId, run, async () => use(await warmTree(deps, taskId, ref, run)));
  const workspace = await Workspace.checkout(ref, deps.scratchDir, { logger: run.logger });
  try {
    return await use({ workspace, setup: (config) => runSetup(deps.sandbox, config, workspace.dir, run) });
  } finally {
    await workspace.dispose();
  }
}

/** Runs `use` alone on task `taskId`'s warm tree (`WarmWorkspaces.exclusive`), heartbeating while it waits. */
export function exclusively<T>(deps: TaskTreeDeps, taskId: string, run: ActivityRun, use: () => Promise<T>): Promise<T> {
  return deps.workspaces.exclusive(taskId, use, (earlier) => heartbeatWhile(run, earlier));
}

/** Task `taskId`'s warm workspace on this worker at `ref.sha` (acquired when this worker has none). */
export async function warmTree(deps: TaskTreeDeps, taskId: string, ref: RepoRef, run: ActivityRun): Promise<TaskTree> {
  const workspace = await heartbeatWhile(run, deps.workspaces.acquire(taskId, ref, run.logger));
  return {
    workspace,
    setup: async (config, baseSha) => {
      await workspace.dropLeftovers();
      if (!config.setup) return undefined;
      const key = await setupKey(workspace, config.setup.command);
      if ((await deps.workspaces.setupKeyOf(taskId)) === key && !workspace.setupOutputsLost) return undefined;
      // Linked dependencies are safe only where a run cannot write a file ADO owns (warm.ts); and
      // only what setup installs from the repository as the user gave it is shared.
      const shared = deps.sandbox.runsAsOtherUser && baseSha !== undefined && (await workspace.treeId()) === (await workspace.treeId(baseSha));
      const cacheKey = shared ? await dependencyCacheKey(workspace, config.setup.command) : undefined;
      if (cacheKey && (await heartbeatWhile(run, deps.workspaces.restoreDependencies(workspace, cacheKey)))) {
        await keepOutputs();
        // Recorded last: a setup is done once what it left is kept.
        await deps.workspaces.recordSetup(taskId, key);
        run.logger.info({ command: config.setup.command }, 'Dependencies linked from the worker cache; setup skipped');
        return undefined;
      }
      run.logger.info({ command: config.setup.command }, 'Running setup in the warm workspace');
      // Setup starts as on a fresh checkout: what it installs may go to other tasks (then from
      // exactly the commit its key names), and what an earlier setup left is linked (with the
      // cache, or pinned), where no run may write it.
      if (deps.sandbox.runsAsOtherUser) await workspace.removeUntracked();
      // Before the run: a setup cut short (cancelled, timed out) may have written the tree too.
      workspace.ranCommands();
      const failed = await runSetup(deps.sandbox, config, workspace.dir, run);
      if (failed) return failed;
      // What setup installed stays out of the task's commits, and survives the next sync.
      await workspace.excludeUntracked();
      if (cacheKey) await heartbeatWhile(run, deps.workspaces.cacheDependencies(workspace, cacheKey));
      await keepOutputs();
      await deps.workspaces.recordSetup(taskId, key);
      return undefined;
    },
  };

  /** What setup left survives later commands' cleaning while they leave it as it is (workspace.ts). */
  async function keepOutputs(): Promise<void> {
    const outputs = await workspace.untracked();
    const linksReadOnly = deps.sandbox.runsAsOtherUser;
    if (linksReadOnly) await heartbeatWhile(run, deps.workspaces.pinSetupOutputs(taskId, workspace, outputs));
    await workspace.keepSetupOutputs(outputs, { linksReadOnly });
  }
}
