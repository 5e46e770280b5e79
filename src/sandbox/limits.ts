/**
 * Limits of one sandbox run: merged from defaults and the run's overrides, validated, and turned
 * into the `prlimit` arguments both backends put in front of the command.
 */
import { FailureType, nonRetryable } from '../domain/errors';
import type { Logger } from '../telemetry/logger';
import { DEFAULT_SANDBOX_CEILINGS, DEFAULT_SANDBOX_LIMITS, type SandboxLimits, type SandboxRunSpec } from './types';

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
 * `limits` with every value above its ceiling lowered to it; `lowered` names the limits that were.
 * Operators set the ceilings, so what a repository asks for can only make a run smaller.
 */
export function boundLimits(limits: SandboxLimits, ceilings: SandboxLimits): { limits: SandboxLimits; lowered: (keyof SandboxLimits)[] } {
  const bounded = { ...limits };
  const lowered = LIMIT_NAMES.filter((name) => limits[name] > ceilings[name]);
  for (const name of lowered) bounded[name] = ceilings[name];
  return { limits: bounded, lowered };
}

/**
 * A sandbox's limits: its defaults, what each run asks for over them, and the ceilings over both
 * (sandboxConfigFromEnv refuses defaults above the ceilings with the variables' names).
 */
export class LimitPolicy {
  private readonly ceilings: SandboxLimits;

  /** Throws a non-retryable `InvalidInput` error for a value that is not a positive whole number. */
  constructor(
    private readonly defaults: Partial<SandboxLimits> | undefined,
    ceilings: SandboxLimits = DEFAULT_SANDBOX_CEILINGS,
  ) {
    this.ceilings = resolveLimits(ceilings);
    resolveLimits(defaults);
  }

  /** The limits of `spec`'s run: its own over the defaults, each at most its ceiling (a lowered one is logged). */
  limitsFor(spec: Pick<SandboxRunSpec, 'command' | 'limits'>, logger: Logger | undefined): SandboxLimits {
    const { limits, lowered } = boundLimits(resolveLimits(this.defaults, spec.limits), this.ceilings);
    if (lowered.length > 0) {
      logger?.warn(
        { command: spec.command, asked: Object.fromEntries(lowered.map((name) => [name, spec.limits?.[name]])), ceilings: Object.fromEntries(lowered.map((name) => [name, limits[name]])) },
        'sandbox run asked for more than the operator allows; lowered to the ceilings',
      );
    }
    return limits;
  }
}

/**
 * `prlimit` options for the limits rlimits can express. CPU gets a soft limit (SIGXCPU, which we
 * report as `cpu`) one second before the hard one (SIGKILL). Memory is RLIMIT_DATA, not
 * RLIMIT_AS: V8 reserves far more address space than it uses, so an address-space cap breaks
 * node while a data cap lets it start at 128 MiB and fail cleanly with "heap out of memory".
 * Core dumps are off: they would land in the workspace or in a host crash handler. No file may
 * grow past the disk limit (RLIMIT_FSIZE: SIGXFSZ at once, before the disk watch would notice).
 * RLIMIT_NPROC only when asked (see the callers for why it is per sandbox only under bwrap).
 */
export function rlimitOptions(limits: SandboxLimits, options: { processes: boolean }): string[] {
  const args = [`--cpu=${limits.cpuTimeSec}:${limits.cpuTimeSec + 1}`, `--data=${limits.memoryBytes}`, `--fsize=${limits.diskBytes}`, '--core=0'];
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
