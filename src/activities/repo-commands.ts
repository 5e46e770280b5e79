/**
 * Running a repository's own commands in the sandbox: its `setup` (the only one that may have
 * network), then `execute` or the quality gates, all as the repository config says.
 */
import type { RepoConfig } from '../gates/config';
import type { QualityGatesResult } from '../domain/quality-gates';
import { runGates, type Gate } from '../gates/runner';
import type { Sandbox } from '../sandbox/types';
import type { ActivityRun } from './context';

/** Runs `setup` when the repository has one; returns its failure as a gate outcome, or undefined when it passed. */
export async function runSetup(sandbox: Sandbox, config: RepoConfig, dir: string, run: ActivityRun): Promise<QualityGatesResult | undefined> {
  if (!config.setup) return undefined;
  const outcome = await runGates(sandbox, [{ name: 'setup', ...toGate(config.setup) }], dir, {
    signal: run.signal,
    onProgress: run.onProgress,
    limits: config.limits,
    // setup prepares the workspace itself (installs dependencies into it): no copy.
    copyWorkspace: false,
  });
  return outcome.passed ? undefined : outcome;
}

/** Runs the commands in parallel; each gate gets its own copy of the workspace. */
export function runCommands(sandbox: Sandbox, config: RepoConfig, gates: Gate[], dir: string, run: ActivityRun): Promise<QualityGatesResult> {
  return runGates(sandbox, gates, dir, { signal: run.signal, onProgress: run.onProgress, limits: config.limits });
}

export function toGate(spec: { command: string; timeoutMs?: number; network: boolean }): Omit<Gate, 'name'> {
  return { command: spec.command, timeoutMs: spec.timeoutMs, network: spec.network };
}
