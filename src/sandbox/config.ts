/** Sandbox settings from the environment (`ADO_SANDBOX*`), validated; errors name the variable. */
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv, unsetWhenEmpty } from '../config/env-schema';
import type { Owner } from './ownership';
import type { SandboxLimits } from './types';

export type SandboxBackend = 'bubblewrap' | 'process';

/** What `createSandbox` needs besides a logger. */
export interface SandboxConfig {
  backend: SandboxBackend;
  allowUnsafeProcessBackend: boolean;
  /** Host user of sandboxed commands when ADO runs as root; absent: the backend's default. */
  user?: Owner;
  /** Limits every run gets unless it sets its own. */
  defaults: Partial<SandboxLimits>;
}

const positiveInt = (unit: string) => {
  const error = `must be a positive whole number of ${unit}`;
  return optionalVar(z.coerce.number({ error }).int({ error }).positive({ error }));
};

const hostId = optionalVar(
  z.coerce
    .number()
    .int()
    .min(1, { error: 'must be an unprivileged id (1 or more): root would escape the process limit' })
    .max(4_294_967_294),
);

const sandboxEnvSchema = z.object({
  ADO_SANDBOX: z.preprocess(
    unsetWhenEmpty,
    z.enum(['bubblewrap', 'process'], { error: 'must be "bubblewrap" (default) or "process"' }).default('bubblewrap'),
  ),
  ADO_SANDBOX_ALLOW_UNSAFE: z.preprocess(
    unsetWhenEmpty,
    z.enum(['1', '0', 'true', 'false'], { error: 'must be 1 or 0' }).default('0').transform((value) => value === '1' || value === 'true'),
  ),
  ADO_SANDBOX_UID: hostId,
  ADO_SANDBOX_GID: hostId,
  ADO_SANDBOX_WALL_TIME_SEC: positiveInt('seconds'),
  ADO_SANDBOX_CPU_TIME_SEC: positiveInt('seconds'),
  ADO_SANDBOX_MEMORY_MB: positiveInt('MiB'),
  ADO_SANDBOX_MAX_PROCESSES: positiveInt('processes'),
  ADO_SANDBOX_MAX_OUTPUT_BYTES: positiveInt('bytes'),
});

/**
 * Reads ADO_SANDBOX (bubblewrap|process), ADO_SANDBOX_ALLOW_UNSAFE (1 to allow the process
 * backend), ADO_SANDBOX_UID / ADO_SANDBOX_GID (the host user of sandboxed commands when ADO runs
 * as root; gid defaults to the uid) and the default limits ADO_SANDBOX_WALL_TIME_SEC,
 * _CPU_TIME_SEC, _MEMORY_MB, _MAX_PROCESSES, _MAX_OUTPUT_BYTES. Throws a non-retryable
 * `InvalidConfig` error naming each variable that is wrong.
 */
export function sandboxConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const vars = parseEnv(sandboxEnvSchema, env, 'sandbox');
  if (vars.ADO_SANDBOX_GID !== undefined && vars.ADO_SANDBOX_UID === undefined) {
    throw invalidConfig('sandbox', 'ADO_SANDBOX_GID is set without ADO_SANDBOX_UID; set both.');
  }
  const defaults: Partial<SandboxLimits> = {};
  if (vars.ADO_SANDBOX_WALL_TIME_SEC !== undefined) defaults.wallTimeMs = vars.ADO_SANDBOX_WALL_TIME_SEC * 1000;
  if (vars.ADO_SANDBOX_CPU_TIME_SEC !== undefined) defaults.cpuTimeSec = vars.ADO_SANDBOX_CPU_TIME_SEC;
  if (vars.ADO_SANDBOX_MEMORY_MB !== undefined) defaults.memoryBytes = vars.ADO_SANDBOX_MEMORY_MB * 1024 ** 2;
  if (vars.ADO_SANDBOX_MAX_PROCESSES !== undefined) defaults.maxProcesses = vars.ADO_SANDBOX_MAX_PROCESSES;
  if (vars.ADO_SANDBOX_MAX_OUTPUT_BYTES !== undefined) defaults.maxOutputBytes = vars.ADO_SANDBOX_MAX_OUTPUT_BYTES;
  const config: SandboxConfig = { backend: vars.ADO_SANDBOX, allowUnsafeProcessBackend: vars.ADO_SANDBOX_ALLOW_UNSAFE, defaults };
  if (vars.ADO_SANDBOX_UID !== undefined) {
    config.user = { uid: vars.ADO_SANDBOX_UID, gid: vars.ADO_SANDBOX_GID ?? vars.ADO_SANDBOX_UID };
  }
  return config;
}
