/**
 * Why a run ended, from what the supervisor saw: how the process ended, whether we killed it,
 * and the end of its output. Pure, so each rule is tested on its own.
 */
import { constants } from 'node:os';
import { formatMebibytes, formatSeconds } from './limits';
import { OVERLAY_SETUP_FAILED } from './overlay';
import type { SandboxLimits, SandboxRunResult, StopReason } from './types';

export interface RunEnding {
  /** Exit code of the process we started (bwrap or sh), null when it died by a signal. */
  exitCode: number | null;
  /** Signal that ended the process we started. */
  signal: NodeJS.Signals | null;
  /** Set when the supervisor itself ended the run. */
  killedFor?: 'timeout' | 'cancelled' | 'disk';
  /** The last few KiB of output. */
  outputTail: string;
  limits: SandboxLimits;
}

export interface Classification {
  stopReason: StopReason;
  reason: string;
  exitCode: number | null;
  signal: string | null;
}

/** What programs print when an allocation fails under RLIMIT_DATA (V8, libc, Python, C++). */
const OUT_OF_MEMORY =
  /heap out of memory|allocation failed|out of memory|Cannot allocate memory|MemoryError|std::bad_alloc|\bENOMEM\b/i;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * Signal of an exit code above 128: the shell's convention for "my child died of signal N",
 * which bwrap follows too. A program may exit with 137 on its own; we cannot tell it apart.
 */
function signalOfExitCode(code: number): string | undefined {
  return code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
}

/** Reads a run's ending as a `StopReason` and one line for humans. */
export function classifyEnding(ending: RunEnding): Classification {
  const { exitCode, limits } = ending;
  const signal = ending.signal ?? (exitCode === null ? undefined : signalOfExitCode(exitCode)) ?? null;
  const base = { exitCode, signal };
  if (ending.killedFor === 'timeout') {
    return { ...base, stopReason: 'timeout', reason: `killed: wall time ${formatSeconds(limits.wallTimeMs)} exceeded` };
  }
  if (ending.killedFor === 'cancelled') {
    return { ...base, stopReason: 'cancelled', reason: 'killed: the run was cancelled' };
  }
  if (ending.killedFor === 'disk' || signal === 'SIGXFSZ') {
    return { ...base, stopReason: 'disk', reason: `killed: wrote more than the disk limit of ${formatMebibytes(limits.diskBytes)} to the workspace` };
  }
  if (signal === 'SIGXCPU') {
    return { ...base, stopReason: 'cpu', reason: `killed: CPU time limit of ${limits.cpuTimeSec} s exceeded` };
  }
  const failed = signal !== null || exitCode !== 0;
  if (failed && OUT_OF_MEMORY.test(ending.outputTail)) {
    return {
      ...base,
      stopReason: 'memory',
      reason: `stopped: out of memory (limit ${formatMebibytes(limits.memoryBytes)} per process)`,
    };
  }
  if (signal !== null) return { ...base, stopReason: 'signal', reason: `killed by signal ${signal}` };
  return { ...base, stopReason: 'exit', reason: `exited with code ${exitCode}` };
}

/**
 * bwrap reports a setup it could not make (a bind, a namespace) as exit code 1 and a line
 * "bwrap: ..." before any command ran, and so does the mount of an overlay view before bwrap
 * starts (overlay.ts): that run is a `spawn-error`, not the command's failure.
 */
export function bwrapSetupFailure(result: SandboxRunResult): SandboxRunResult {
  const setup = result.output.startsWith('bwrap: ') || result.output.startsWith(OVERLAY_SETUP_FAILED);
  if (result.stopReason !== 'exit' || result.exitCode !== 1 || !setup) return result;
  const firstLine = result.output.split('\n', 1)[0] ?? '';
  return { ...result, stopReason: 'spawn-error', reason: `the sandbox could not start: ${firstLine}` };
}

/**
 * The exit code with which the gVisor backend's first process (a shell waiting for the command)
 * says that the command died of SIGKILL. Nothing in the sandbox sends SIGKILL but gVisor's
 * out-of-memory killer, unless the command does it to itself.
 */
export const COMMAND_SIGKILLED_EXIT = 249;

/**
 * A gVisor run's ending: a command killed by SIGKILL inside the sandbox is reported as memory
 * (gVisor's kernel stops a process that passes the sandbox's memory limit so, and says nothing).
 * The sandbox's first process killed (the command can `kill -9 1`) stays a signal.
 */
export function gvisorEnding(result: SandboxRunResult, limits: SandboxLimits): SandboxRunResult {
  if (result.stopReason !== 'exit' || result.exitCode !== COMMAND_SIGKILLED_EXIT) return result;
  return { ...result, exitCode: 137, signal: 'SIGKILL', stopReason: 'memory', reason: `killed: out of memory (limit ${formatMebibytes(limits.memoryBytes)} for the whole sandbox)` };
}
