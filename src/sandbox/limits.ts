/**
 * Limits of one sandbox run: merged from defaults and the run's overrides, validated, and turned
 * into the `prlimit` arguments both backends put in front of the command.
 */
import { FailureType, nonRetryable } from '../domain/errors';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './types';

const LIMIT_NAMES = Object.keys(DEFAULT_SANDBOX_LIMITS) as (keyof SandboxLimits)[];

/**
 * `overrides` over `defaults` over `DEFAULT_SANDBOX_LIMITS`. Throws a non-retryable
 * `InvalidInput` error naming the limit when a value is not a positive whole number.
 */
export function resolveLimits(...layers: (Partial<SandboxLimits> | undefined)[]): SandboxLimits {
  const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const layer of layers) {
    for (const name of LIMIT_NAMES) {
      const value = layer?.[name];
      if (value === undefined) continue;
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw nonRetryable(
          FailureType.InvalidInput,
          `Sandbox limit ${name} must be a positive whole number, got ${String(value)}; fix the limit or leave it out to use the default (${DEFAULT_SANDBOX_LIMITS[name]}).`,
        );
      }
      limits[name] = value;
    }
  }
  return limits;
}

/**
 * `prlimit` options for the limits rlimits can express. CPU gets a soft limit (SIGXCPU, which we
 * report as `cpu`) one second before the hard one (SIGKILL). Memory is RLIMIT_DATA, not
 * RLIMIT_AS: V8 reserves far more address space than it uses, so an address-space cap breaks
 * node while a data cap lets it start at 128 MiB and fail cleanly with "heap out of memory".
 * Core dumps are off: they would land in the workspace or in a host crash handler.
 * RLIMIT_NPROC only when asked (see the callers for why it is per sandbox only under bwrap).
 */
export function rlimitOptions(limits: SandboxLimits, options: { processes: boolean }): string[] {
  const args = [`--cpu=${limits.cpuTimeSec}:${limits.cpuTimeSec + 1}`, `--data=${limits.memoryBytes}`, '--core=0'];
  if (options.processes) args.push(`--nproc=${limits.maxProcesses}`);
  return args;
}

/** "30 s", "1.5 s": wall and CPU limits in run reasons. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/** "256 MiB": memory limits in run reasons. */
export function formatMebibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}
