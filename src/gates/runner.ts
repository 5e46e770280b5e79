/**
 * Runs a repository's quality gates (typecheck, lint, test, build...) in parallel, each in its
 * own sandbox run with its own timeout, and reports them as `GateResult`s plus the failures the
 * next code-generation round receives.
 *
 * Isolation: by default each gate works on its own copy of the workspace, so a build writing
 * dist/ cannot race a test reading it, and no gate leaves anything in the workspace. The copy
 * costs time in proportion to the workspace (measured: ~18 000 files / 400 MB of node_modules
 * take 1.3-3.4 s per copy on ext4 on a quiet machine, and 15-40 s under heavy load; near nothing
 * on btrfs/XFS through reflinks); bubblewrap 0.8 has no overlay mounts that would make it free.
 * The folders named `linkable` (installed dependencies) are hard-linked into the copies where
 * the sandbox makes that safe (workspace-copy.ts). Callers whose gates only read can pass
 * `copyWorkspace: false`: the gates then share the workspace.
 */
import type { GateResult, QualityGatesResult } from '../domain/quality-gates';
import type { ToolFailure } from '../domain/task';
import { FailureType, nonRetryable } from '../domain/errors';
import type { Sandbox, SandboxLimits, SandboxRunResult } from '../sandbox/types';
import { withWorkspaceCopy } from '../sandbox/workspace-copy';
import { summarizeFailure } from './failure-summary';

export interface Gate {
  /** `typecheck`, `lint`, `test`, `build`...: the failure's `tool`. */
  name: string;
  /** Shell command line, run in the workspace. */
  command: string;
  /** Wall-time limit of this gate. @default `options.limits`', else the sandbox's */
  timeoutMs?: number;
  /** Network access. @default false */
  network?: boolean;
}

export interface RunGatesOptions {
  /** Aborting stops every gate still running (their stop reason is `cancelled`). */
  signal?: AbortSignal;
  /** Called about every second per running gate (activities heartbeat here). */
  onProgress?: () => void;
  /** Limits for every gate (a gate's `timeoutMs` wins for wall time). @default the sandbox's */
  limits?: Partial<SandboxLimits>;
  /** Each gate on its own copy of the workspace. @default true */
  copyWorkspace?: boolean;
  /** Called on the folder a gate runs in, before it runs (once, when the gates share the workspace). */
  prepare?: (folder: string) => Promise<void>;
  /** Folders of the workspace the copies may hard-link (see `WorkspaceCopyOptions`), when the sandbox allows it. */
  linkable?: readonly string[];
  /** Told what runs whenever a gate starts or ends, e.g. "quality gates: lint, test running (1 of 3 done)". */
  report?: (doing: string) => void;
}

/** What `RunGatesOptions.report` is told: the gates running, in the order given, and how many are done. */
export function describeGateProgress(running: readonly string[], done: number, total: number): string {
  if (total === 1 && running.length === 1) return `${running[0]} running`;
  return `quality gates: ${running.length > 0 ? `${running.join(', ')} running` : 'all done'} (${done} of ${total} done)`;
}

function checkGates(gates: Gate[]): void {
  const seen = new Set<string>();
  for (const gate of gates) {
    if (gate.name.trim() === '' || gate.command.trim() === '') {
      throw nonRetryable(
        FailureType.InvalidConfig,
        `Quality gate ${JSON.stringify(gate.name)} needs a name and a command (got command ${JSON.stringify(gate.command)}).`,
      );
    }
    if (seen.has(gate.name)) {
      throw nonRetryable(FailureType.InvalidConfig, `Quality gate ${JSON.stringify(gate.name)} is listed twice; give each gate its own name.`);
    }
    seen.add(gate.name);
  }
}

function gatePassed(result: SandboxRunResult): boolean {
  return result.stopReason === 'exit' && result.exitCode === 0;
}

/** The failure of a gate: the first useful lines, after the reason when it did not simply exit. */
function failureOf(gate: Gate, result: SandboxRunResult): ToolFailure {
  const summary = summarizeFailure(result.output);
  const lines = result.stopReason === 'exit' ? [summary] : [result.reason, summary];
  const failure: ToolFailure = { tool: gate.name, message: lines.filter((line) => line !== '').join('\n') };
  if (result.exitCode !== null) failure.exitCode = result.exitCode;
  if (failure.message === '') failure.message = `${gate.name} failed (${result.reason}) without output`;
  return failure;
}

/**
 * Runs `gates` in parallel in `sandbox` on `workdir` and says whether all passed. Throws a
 * non-retryable `InvalidConfig` error for a gate without a name or command or a duplicate name.
 */
export async function runGates(sandbox: Sandbox, gates: Gate[], workdir: string, options: RunGatesOptions = {}): Promise<QualityGatesResult> {
  checkGates(gates);
  const copy = options.copyWorkspace ?? true;
  if (!copy) await options.prepare?.(workdir);
  const runGate = async (gate: Gate): Promise<SandboxRunResult> => {
    const limits = gate.timeoutMs === undefined ? options.limits : { ...options.limits, wallTimeMs: gate.timeoutMs };
    const run = (folder: string) =>
      sandbox.run(
        { command: gate.command, workdir: folder, network: gate.network === true, limits },
        { signal: options.signal, onProgress: options.onProgress },
      );
    const linkable = sandbox.runsAsOtherUser ? options.linkable : undefined;
    return copy
      ? withWorkspaceCopy(
          workdir,
          gate.name,
          async (folder) => {
            await options.prepare?.(folder);
            return run(folder);
          },
          { linkable },
        )
      : run(workdir);
  };
  const running = new Set(gates.map((gate) => gate.name));
  const report = () => options.report?.(describeGateProgress([...running], gates.length - running.size, gates.length));
  report();
  const runs = await Promise.all(
    gates.map(async (gate) => {
      const result = await runGate(gate);
      running.delete(gate.name);
      // One gate: its end is the activity's, told by the activity ending.
      if (gates.length > 1) report();
      return { gate, result };
    }),
  );

  const outcome: QualityGatesResult = { passed: true, gates: [], failures: [] };
  for (const { gate, result } of runs) {
    const passed = gatePassed(result);
    const gateResult: GateResult = { gate: gate.name, command: gate.command, passed, exitCode: result.exitCode, durationMs: result.durationMs };
    if (result.stopReason !== 'exit') gateResult.stopReason = result.stopReason;
    outcome.gates.push(gateResult);
    if (!passed) {
      outcome.passed = false;
      outcome.failures.push(failureOf(gate, result));
    }
  }
  return outcome;
}
