import { describe, expect, it } from 'vitest';
import { bwrapSetupFailure, classifyEnding, COMMAND_SIGKILLED_EXIT, gvisorEnding, type RunEnding } from './stop-reason';
import { DEFAULT_SANDBOX_LIMITS } from './types';

function ending(overrides: Partial<RunEnding>): RunEnding {
  return { exitCode: 0, signal: null, outputTail: '', limits: DEFAULT_SANDBOX_LIMITS, ...overrides };
}

describe('classifyEnding', () => {
  it('reads a plain exit as exit, whatever the code', () => {
    expect(classifyEnding(ending({ exitCode: 0 }))).toEqual({ stopReason: 'exit', reason: 'exited with code 0', exitCode: 0, signal: null });
    expect(classifyEnding(ending({ exitCode: 2 }))).toMatchObject({ stopReason: 'exit', reason: 'exited with code 2' });
  });

  it('reads exit codes above 128 as the signal that killed the command', () => {
    expect(classifyEnding(ending({ exitCode: 139 }))).toEqual({ stopReason: 'signal', reason: 'killed by signal SIGSEGV', exitCode: 139, signal: 'SIGSEGV' });
  });

  it('reads SIGXCPU, directly or as exit code 152, as the CPU limit', () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, cpuTimeSec: 5 };
    expect(classifyEnding(ending({ exitCode: 152, limits }))).toMatchObject({ stopReason: 'cpu', reason: 'killed: CPU time limit of 5 s exceeded' });
    expect(classifyEnding(ending({ exitCode: null, signal: 'SIGXCPU' }))).toMatchObject({ stopReason: 'cpu', signal: 'SIGXCPU' });
  });

  it('reads a failure that printed an out-of-memory error as the memory limit', () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 256 * 1024 ** 2 };
    const v8 = 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory';
    expect(classifyEnding(ending({ exitCode: 134, outputTail: v8, limits }))).toMatchObject({
      stopReason: 'memory',
      reason: 'stopped: out of memory (limit 256 MiB per process)',
    });
    expect(classifyEnding(ending({ exitCode: 1, outputTail: 'Traceback...\nMemoryError\n' })).stopReason).toBe('memory');
  });

  it('does not blame memory when the command succeeded despite printing about it', () => {
    expect(classifyEnding(ending({ exitCode: 0, outputTail: 'test "reports out of memory" passed' })).stopReason).toBe('exit');
  });

  it('puts our own kills first: timeout and cancellation', () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, wallTimeMs: 90_000 };
    expect(classifyEnding(ending({ exitCode: null, signal: 'SIGKILL', killedFor: 'timeout', limits }))).toEqual({
      stopReason: 'timeout',
      reason: 'killed: wall time 90 s exceeded',
      exitCode: null,
      signal: 'SIGKILL',
    });
    expect(classifyEnding(ending({ exitCode: null, signal: 'SIGKILL', killedFor: 'cancelled' })).stopReason).toBe('cancelled');
  });
});

describe('bwrapSetupFailure', () => {
  const exited = { exitCode: 1, signal: null, stopReason: 'exit' as const, reason: 'exited with code 1', truncated: false, durationMs: 3 };

  it('reads bwrap complaining before the command ran as a spawn error', () => {
    const result = bwrapSetupFailure({ ...exited, output: "bwrap: Can't find source path /srv/x: No such file or directory\n" });
    expect(result).toMatchObject({ stopReason: 'spawn-error', reason: "the sandbox could not start: bwrap: Can't find source path /srv/x: No such file or directory" });
  });

  it("leaves the command's own failures alone", () => {
    const output = 'npm error Missing script: "test"\n';
    expect(bwrapSetupFailure({ ...exited, output })).toEqual({ ...exited, output });
    expect(bwrapSetupFailure({ ...exited, exitCode: 2, reason: 'exited with code 2', output: 'bwrap: x\n' }).stopReason).toBe('exit');
  });
});

describe('gvisorEnding', () => {
  const result = (exitCode: number, stopReason: 'exit' | 'signal', signal: string | null = null) => ({ exitCode, signal, stopReason, reason: '', output: '', truncated: false, durationMs: 1 });

  it("reads the command's SIGKILL, as its waiting shell reports it, as the sandbox's memory limit", () => {
    expect(gvisorEnding(result(COMMAND_SIGKILLED_EXIT, 'exit'), { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 256 * 1024 ** 2 })).toMatchObject({
      stopReason: 'memory',
      exitCode: 137,
      signal: 'SIGKILL',
      reason: 'killed: out of memory (limit 256 MiB for the whole sandbox)',
    });
  });

  it('leaves every other ending as it was, a SIGKILL of the whole sandbox included', () => {
    expect(gvisorEnding(result(137, 'signal', 'SIGKILL'), DEFAULT_SANDBOX_LIMITS)).toMatchObject({ stopReason: 'signal', exitCode: 137 });
    expect(gvisorEnding(result(1, 'exit'), DEFAULT_SANDBOX_LIMITS)).toMatchObject({ stopReason: 'exit', exitCode: 1 });
  });
});
