/**
 * `run`, `run_gates` and `finish`: the repository's code executes only here, and only in the
 * sandbox. `run` is one command of the model's at the workspace root, without network, its output
 * cut to head and tail; the gates are the base commit's, run as the review activity runs them, so
 * the model cannot choose the checks that judge it.
 */
import type { AgentToolArgs } from '../domain/agent-tools';
import type { QualityGatesResult } from '../domain/quality-gates';
import { repoGates, repoRunOptions } from '../gates/repo-gates';
import { runGates } from '../gates/runner';
import { headAndTail } from './limits';
import type { ToolContext, ToolObservation } from './types';

/** Default wall time of `run`. */
export const RUN_DEFAULT_TIMEOUT_SEC = 120;
/** Characters of command output the model sees. */
export const RUN_MAX_OUTPUT_CHARS = 12_000;

export async function runCommand(args: AgentToolArgs<'run'>, ctx: ToolContext): Promise<ToolObservation> {
  const timeoutSec = args.timeout_sec ?? RUN_DEFAULT_TIMEOUT_SEC;
  const result = await ctx.sandbox.run(
    { command: args.command, workdir: ctx.workspaceDir, network: false, limits: { ...ctx.repoConfig.limits, wallTimeMs: timeoutSec * 1000 } },
    { signal: ctx.signal, onProgress: ctx.onProgress },
  );
  const ok = result.stopReason === 'exit' && result.exitCode === 0;
  const output = headAndTail(result.output.trimEnd(), RUN_MAX_OUTPUT_CHARS, 'run a narrower command, or send the output to a file and view or search it');
  return { ok, text: `$ ${args.command}\n${output === '' ? '(no output)' : output}\n[${result.reason}, ${(result.durationMs / 1000).toFixed(1)} s]` };
}

export async function runRepoGates(ctx: ToolContext): Promise<ToolObservation> {
  const gates = repoGates(ctx.repoConfig);
  if (gates.length === 0) return { ok: true, text: 'The repository has no quality gates; nothing to check.', gates: { passed: true, gates: [], failures: [] } };
  const outcome = await runGates(ctx.sandbox, gates, ctx.workspaceDir, repoRunOptions(ctx.repoConfig, ctx));
  return { ok: outcome.passed, text: describeGates(outcome), gates: outcome };
}

/** The gates run first; only when they pass is the session finished. */
export async function finish(args: AgentToolArgs<'finish'>, ctx: ToolContext): Promise<ToolObservation> {
  const gates = await runRepoGates(ctx);
  if (!gates.ok) return { ...gates, text: `Not finished: the quality gates fail. Fix these first, then call finish again.\n${gates.text}` };
  return { ...gates, text: `Finished: ${args.summary}\n${gates.text}`, finished: { summary: args.summary } };
}

function describeGates(outcome: QualityGatesResult): string {
  const lines = outcome.gates.map((g) => `${g.gate}: ${g.passed ? 'passed' : 'FAILED'}`);
  const failures = outcome.failures.map((f) => `--- ${f.tool}${f.exitCode === undefined ? '' : ` (exit ${f.exitCode})`}\n${headAndTail(f.message, 4000, 'run the gate command yourself with run to see all of it')}`);
  return [`Quality gates ${outcome.passed ? 'passed' : 'failed'}:`, ...lines, ...failures].join('\n');
}
