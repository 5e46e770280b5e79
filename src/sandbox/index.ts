/**
 * The sandbox every command ADO runs on a repository's behalf goes through. `createSandbox`
 * picks the backend: bubblewrap by default, gvisor when the operator chooses it, the unisolated
 * process backend only when asked for by name and allowed explicitly.
 */
import { FailureType, nonRetryable } from '../domain/errors';
import type { Logger } from '../telemetry/logger';
import { createBubblewrapSandbox } from './bubblewrap';
import type { SandboxBackend } from './config';
import type { EgressRule } from './egress-proxy';
import type { Owner } from './ownership';
import { createGvisorSandbox } from './gvisor/gvisor';
import type { RunscPlatform } from './gvisor/platforms';
import { createProcessSandbox } from './process';
import type { Sandbox, SandboxLimits } from './types';

export { sandboxConfigFromEnv, type SandboxBackend, type SandboxConfig } from './config';
export { DEFAULT_SANDBOX_USER } from './ownership';
export { SANDBOX_WORKDIR } from './bubblewrap-args';
export { DEFAULT_EGRESS_RULES, type EgressRule } from './egress-proxy';
export type { Owner } from './ownership';
export * from './types';

export interface CreateSandboxOptions {
  /** Default `bubblewrap`. */
  backend?: SandboxBackend;
  /** Must be true for the `process` backend, which isolates nothing. */
  allowUnsafeProcessBackend?: boolean;
  logger?: Logger;
  /** Limits every run gets unless it sets its own. */
  defaults?: Partial<SandboxLimits>;
  /** What no run gets more of (default `DEFAULT_SANDBOX_CEILINGS`). */
  ceilings?: SandboxLimits;
  /** Hosts runs with network may reach (default the package registries). */
  egressRules?: readonly EgressRule[];
  /** bubblewrap and gvisor, when ADO runs as root: the user of sandboxed commands (default 65534:65534). */
  user?: Owner;
  /** gvisor: runsc's path (default: PATH, ADO's cache, or built from the Go module proxy). */
  runscPath?: string;
  /** gvisor: how runsc intercepts system calls (default systrap). */
  platform?: RunscPlatform;
  /** gvisor: lines for people about finding or building runsc (default: the logger's info). */
  progress?: (line: string) => void;
}

/**
 * The sandbox for `options` (typically `{ ...sandboxConfigFromEnv(), logger }`). Throws a
 * non-retryable `InvalidConfig` error when the process backend is asked for without
 * `allowUnsafeProcessBackend`, or when the backend is not usable here (see `createBubblewrapSandbox`,
 * `createGvisorSandbox`).
 */
export function createSandbox(options: CreateSandboxOptions = {}): Sandbox {
  const backend = options.backend ?? 'bubblewrap';
  if (backend === 'bubblewrap') {
    const { logger, defaults, ceilings, user, egressRules } = options;
    return createBubblewrapSandbox({ logger, defaults, ceilings, user, egressRules });
  }
  if (backend === 'gvisor') {
    const { logger, defaults, ceilings, user, egressRules, runscPath, platform, progress } = options;
    return createGvisorSandbox({ logger, defaults, ceilings, user, egressRules, runscPath, platform, progress });
  }
  if (options.allowUnsafeProcessBackend !== true) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      'The "process" sandbox backend runs commands without any isolation and must be allowed explicitly: ' +
        'set ADO_SANDBOX_ALLOW_UNSAFE=1 (allowUnsafeProcessBackend: true) if you trust the code, or use ADO_SANDBOX=bubblewrap.',
    );
  }
  return createProcessSandbox({ logger: options.logger, defaults: options.defaults, ceilings: options.ceilings });
}
