/**
 * Running a repository's own commands in the sandbox: its `setup` (the only one that may have
 * network), then `execute` or the quality gates, all as the repository config of the task's base
 * commit says (the commit under test is the model's: it must not choose its own checks, limits or
 * network), with that commit's package.json scripts.
 */
import type { QualityGatesResult } from '../domain/quality-gates';
import { loadRepoConfig, type RepoConfig } from '../gates/config';
import { repoRunOptions, toGate } from '../gates/repo-gates';
import { runGates, type Gate } from '../gates/runner';
import type { Sandbox } from '../sandbox/types';
import type { Workspace } from '../workspace/workspace';
import type { ActivityRun } from './context';

/**
 * The config of the task's base commit `baseSha`; without one (an activity scheduled by a workflow
 * from before base commits were passed), the commit before the task's own commits.
 */
export async function loadBaseConfig(workspace: Workspace, taskId: string, baseSha: string | undefined): Promise<RepoConfig> {
  const base = baseSha ?? (await workspace.taskBase(taskId));
  const known = baseConfigs.get(base);
  if (known) return known;
  const config = await loadRepoConfig((name) => workspace.readCommitted(base, name));
  baseConfigs.set(base, config);
  if (baseConfigs.size > BASE_CONFIGS_KEPT) baseConfigs.delete(baseConfigs.keys().next().value!);
  return config;
}

/**
 * Configs read, by commit: a commit's files never change, and a coding session asks for its base
 * commit's config at every tool call (each read is several git calls). Oldest dropped first.
 */
const baseConfigs = new Map<string, RepoConfig>();
const BASE_CONFIGS_KEPT = 200;

/** Runs `setup` when the repository has one; returns its failure as a gate outcome, or undefined when it passed. */
export async function runSetup(sandbox: Sandbox, config: RepoConfig, dir: string, run: ActivityRun): Promise<QualityGatesResult | undefined> {
  if (!config.setup) return undefined;
  run.report(`setup: ${config.setup.command}`);
  // setup prepares the workspace itself (installs dependencies into it): no copy.
  const outcome = await runGates(sandbox, [{ name: 'setup', ...toGate(config.setup) }], dir, { ...repoRunOptions(config, run), copyWorkspace: false, report: undefined });
  return outcome.passed ? undefined : outcome;
}

/**
 * Runs the commands in parallel, each on a private tree of its own: an overlay view of `workspace`
 * where the sandbox has them, else a copy, which shares what setup installed (the folders git
 * ignores) by hard link where the sandbox makes that safe.
 */
export async function runCommands(sandbox: Sandbox, config: RepoConfig, gates: Gate[], workspace: Workspace, run: ActivityRun): Promise<QualityGatesResult> {
  return runGates(sandbox, gates, workspace.dir, { ...repoRunOptions(config, run), linkable: () => workspace.ignoredFolders() });
}
