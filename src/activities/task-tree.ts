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
  /** Runs the repository's `setup` when the tree needs it; its failure as a gate outcome, else undefined. */
  setup: (config: RepoConfig) => Promise<QualityGatesResult | undefined>;
}

/** Runs `use` on the task's tree at `ref.sha` (see the module comment for which tree). */
export async function withTaskTree<T>(deps: TaskTreeDeps, taskId: string, ref: RepoRef, run: ActivityRun, use: (tree: TaskTree) => Promise<T>): Promise<T> {
  if (isWorkspaceQueue(Context.current().info.taskQueue)) return use(await warmTree(deps, taskId, ref, run));
  const workspace = await Workspace.checkout(ref, deps.scratchDir, { logger: run.logger });
  try {
    return await use({ workspace, setup: (config) => runSetup(deps.sandbox, config, workspace.dir, run) });
  } finally {
    await workspace.dispose();
  }
}

/** Task `taskId`'s warm workspace on this worker at `ref.sha` (acquired when this worker has none). */
export async function warmTree(deps: TaskTreeDeps, taskId: string, ref: RepoRef, run: ActivityRun): Promise<TaskTree> {
  const workspace = await heartbeatWhile(run, deps.workspaces.acquire(taskId, ref, run.logger));
  return {
    workspace,
    setup: async (config) => {
      if (!config.setup) return undefined;
      const key = await setupKey(workspace, config.setup.command);
      if ((await deps.workspaces.setupKeyOf(taskId)) === key) return undefined;
      // Linked dependencies are safe only where a run cannot write a file ADO owns (warm.ts).
      const cacheKey = deps.sandbox.runsAsOtherUser ? await dependencyCacheKey(workspace, config.setup.command) : undefined;
      if (cacheKey && (await heartbeatWhile(run, deps.workspaces.restoreDependencies(workspace, cacheKey)))) {
        await deps.workspaces.recordSetup(taskId, key);
        run.logger.info({ command: config.setup.command }, 'Dependencies linked from the worker cache; setup skipped');
        return undefined;
      }
      run.logger.info({ command: config.setup.command }, 'Running setup in the warm workspace');
      // What setup installs may go to other tasks: it starts from exactly the commit its key names,
      // as on a fresh checkout (nor can a file an earlier run left, ignored or linked, steer it).
      if (cacheKey) await workspace.removeUntracked();
      // Before the run: a setup cut short (cancelled, timed out) may have written the tree too.
      workspace.ranCommands();
      const failed = await runSetup(deps.sandbox, config, workspace.dir, run);
      if (failed) return failed;
      // What setup installed stays out of the task's commits, and survives the next sync.
      await workspace.excludeUntracked();
      await deps.workspaces.recordSetup(taskId, key);
      if (cacheKey) await heartbeatWhile(run, deps.workspaces.cacheDependencies(workspace, cacheKey));
      return undefined;
    },
  };
}
