/**
 * The gates of a repository's config as the runner takes them, and the run options every run of
 * the repository's commands shares: the config's limits, and the base commit's package.json
 * scripts pinned in each run's folder. The review activity and the agent's `run_gates` both use
 * them, so the model's check is the workflow's check.
 */
import { GATE_NAMES, type RepoConfig } from './config';
import { pinPackageScripts } from './package-scripts';
import type { Gate, RunGatesOptions } from './runner';

/** The configured gates, in `GATE_NAMES` order. */
export function repoGates(config: RepoConfig): Gate[] {
  return GATE_NAMES.flatMap((name) => {
    const spec = config.gates[name];
    return spec ? [{ name, ...toGate(spec) }] : [];
  });
}

export function toGate(spec: { command: string; timeoutMs?: number; network: boolean }): Omit<Gate, 'name'> {
  return { command: spec.command, timeoutMs: spec.timeoutMs, network: spec.network };
}

/** Options for running the repository's commands under `config`. */
export function repoRunOptions(config: RepoConfig, run: { signal?: AbortSignal; onProgress?: () => void; report?: (doing: string) => void }): RunGatesOptions {
  return {
    signal: run.signal,
    onProgress: run.onProgress,
    report: run.report,
    limits: config.limits,
    // Each run's own folder, after setup has run in it: setup's commands are the repository's code too.
    prepare: (folder, into) => pinPackageScripts(folder, config.packageScripts, into),
  };
}
