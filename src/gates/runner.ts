/**
 * Runs a repository's quality gates (typecheck, lint, test, build...) in parallel, each in its
 * own sandbox run with its own timeout, and reports them as `GateResult`s plus the failures the
 * next code-generation round receives.
 *
 * Isolation: by default each gate works on a private tree of its own, so a build writing dist/
 * cannot race a test reading it, and no gate leaves anything in the workspace. Where the sandbox
 * can, that tree is an overlay view of the workspace (overlay.ts: a mount, whatever the
 * workspace's size); elsewhere a copy, which costs time in proportion to the workspace (measured:
 * 20,000 files take 4.5-6.5 s on ext4 on a loaded 2-core machine; near nothing on btrfs/XFS
 * through reflinks), with the folders named `linkable` (installed dependencies) hard-linked where
 * the sandbox makes that safe (workspace-copy.ts). Callers whose gates only read can pass
 * `copyWorkspace: false`: the gates then share the workspace.
 */
import type { GateResult, QualityGatesResult } from '../domain/quality-gates';
import type { ToolFailure } from '../domain/task';
import { FailureType, nonRetryable } from '../domain/errors';
import type { Sandbox, SandboxLimits, SandboxRunResult } from '../sandbox/types';
import { withOverlayFolders, type OverlayFolders } from '../sandbox/overlay';
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
  /** Each gate on a private tree of its own (an overlay view or a copy of the workspace). @default true */
  copyWorkspace?: boolean;
  /**
   * Called before a gate runs (once, when the gates share the workspace) with the folder it will
   * see and the folder where changes to it go: the same, except for an overlay view (its upper folder).
   */
  prepare?: (folder: string, into: string) => Promise<void>;
  /**
   * Folders of the workspace the copies may hard-link (see `WorkspaceCopyOptions`), when the
   * sandbox allows it; asked once, only when the gates get copies.
   */
  linkable?: () => Promise<readonly string[]>;
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
  const tree = !(options.copyWorkspace ?? true) ? 'shared' : (await sandbox.overlays?.(workdir)) ? 'overlay' : 'copy';
  if (tree === 'shared') await options.prepare?.(workdir, workdir);
  const linkable = tree === 'copy' && sandbox.runsAsOtherUser ? await options.linkable?.() : undefined;
  const runGate = async (gate: Gate): Promise<SandboxRunResult> => {
    const limits = gate.timeoutMs === undefined ? options.limits : { ...options.limits, wallTimeMs: gate.timeoutMs };
    const run = (folder: string, overlay?: OverlayFolders) =>
      sandbox.run(
        { command: gate.command, workdir: folder, network: gate.network === true, limits, overlay },
        { signal: options.signal, onProgress: options.onProgress },
      );
    if (tree === 'shared') return run(workdir);
    if (tree === 'overlay') {
      return withOverlayFolders(workdir, gate.name, async (overlay) => {
        await options.prepare?.(workdir, overlay.upper);
        return run(workdir, overlay);
      });
    }
    const inCopy = async (folder: string) => {
      await options.prepare?.(folder, folder);
      return run(folder);
    };
    return withWorkspaceCopy(workdir, gate.name, inCopy, { linkable });
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
