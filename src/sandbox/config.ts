/** Sandbox settings from the environment (`ADO_SANDBOX*`), validated; errors name the variable. */
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv, unsetWhenEmpty } from '../config/env-schema';
import { DEFAULT_EGRESS_RULES, type EgressRule } from './egress-proxy';
import { RUNSC_PLATFORMS, type RunscPlatform } from './gvisor/platforms';
import { MAX_KEPT_OUTPUT_BYTES } from './output';
import type { Owner } from './ownership';
import { DEFAULT_SANDBOX_CEILINGS, type SandboxLimits } from './types';

export type SandboxBackend = 'bubblewrap' | 'gvisor' | 'process';

/** What `createSandbox` needs besides a logger. */
export interface SandboxConfig {
  backend: SandboxBackend;
  allowUnsafeProcessBackend: boolean;
  /** Host user of sandboxed commands when ADO runs as root; absent: the backend's default. */
  user?: Owner;
  /** Limits every run gets unless it sets its own. */
  defaults: Partial<SandboxLimits>;
  /** What no run gets more of, whatever the repository asks for. */
  ceilings: SandboxLimits;
  /** Hosts `setup` with network may reach through the egress proxy. */
  egressRules: readonly EgressRule[];
  /** gVisor: runsc's path (absent: PATH, ADO's cache, or a build from the Go module proxy). */
  runscPath?: string;
  /** gVisor: how runsc intercepts system calls. */
  platform: RunscPlatform;
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

/** Each limit's default variable and ceiling variable, for messages. */
const LIMIT_VARIABLES: Record<keyof SandboxLimits, [string, string]> = {
  wallTimeMs: ['ADO_SANDBOX_WALL_TIME_SEC', 'ADO_SANDBOX_CEILING_WALL_TIME_SEC'],
  cpuTimeSec: ['ADO_SANDBOX_CPU_TIME_SEC', 'ADO_SANDBOX_CEILING_CPU_TIME_SEC'],
  memoryBytes: ['ADO_SANDBOX_MEMORY_MB', 'ADO_SANDBOX_CEILING_MEMORY_MB'],
  maxProcesses: ['ADO_SANDBOX_MAX_PROCESSES', 'ADO_SANDBOX_CEILING_PROCESSES'],
  maxOutputBytes: ['ADO_SANDBOX_MAX_OUTPUT_BYTES', 'ADO_SANDBOX_CEILING_OUTPUT_BYTES'],
  diskBytes: ['ADO_SANDBOX_DISK_MB', 'ADO_SANDBOX_CEILING_DISK_MB'],
};

const sandboxEnvSchema = z.object({
  ADO_SANDBOX: z.preprocess(
    unsetWhenEmpty,
    z.enum(['bubblewrap', 'gvisor', 'process'], { error: 'must be "bubblewrap" (default), "gvisor" or "process"' }).default('bubblewrap'),
  ),
  ADO_RUNSC_PATH: optionalVar(z.string().refine((value) => value.startsWith('/'), { error: 'must be an absolute path to runsc' })),
  ADO_RUNSC_PLATFORM: z.preprocess(unsetWhenEmpty, z.enum(RUNSC_PLATFORMS, { error: `must be one of ${RUNSC_PLATFORMS.join(', ')}` }).default('systrap')),
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
  ADO_SANDBOX_DISK_MB: positiveInt('MiB'),
  ADO_SANDBOX_CEILING_WALL_TIME_SEC: positiveInt('seconds'),
  ADO_SANDBOX_CEILING_CPU_TIME_SEC: positiveInt('seconds'),
  ADO_SANDBOX_CEILING_MEMORY_MB: positiveInt('MiB'),
  ADO_SANDBOX_CEILING_PROCESSES: positiveInt('processes'),
  ADO_SANDBOX_CEILING_OUTPUT_BYTES: optionalVar(
    z.coerce
      .number({ error: 'must be a positive whole number of bytes' })
      .int({ error: 'must be a positive whole number of bytes' })
      .positive({ error: 'must be a positive whole number of bytes' })
      .max(MAX_KEPT_OUTPUT_BYTES, { error: `must be at most ${MAX_KEPT_OUTPUT_BYTES} (64 MiB): output is kept in memory` }),
  ),
  ADO_SANDBOX_CEILING_DISK_MB: positiveInt('MiB'),
  ADO_SANDBOX_EGRESS_HOSTS: optionalVar(z.string().transform((value, ctx) => parseEgressHosts(value, ctx))),
});

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** `host`, `*.domain` or `host:port`, comma-separated, into rules (port 443 unless given). */
function parseEgressHosts(value: string, ctx: z.RefinementCtx): EgressRule[] {
  const rules: EgressRule[] = [];
  for (const entry of value.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    const match = /^(.+?)(?::(\d{1,5}))?$/.exec(entry);
    const host = match?.[1] ?? '';
    const port = match?.[2] === undefined ? 443 : Number(match[2]);
    if (!HOST_PATTERN.test(host) || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not a host name, *.domain or host:port` });
      continue;
    }
    rules.push({ host, port });
  }
  return rules;
}

/**
 * Reads ADO_SANDBOX (bubblewrap|gvisor|process), ADO_RUNSC_PATH and ADO_RUNSC_PLATFORM (gvisor),
 * ADO_SANDBOX_ALLOW_UNSAFE (1 to allow the process
 * backend), ADO_SANDBOX_UID / ADO_SANDBOX_GID (the host user of sandboxed commands when ADO runs
 * as root; gid defaults to the uid), the default limits ADO_SANDBOX_WALL_TIME_SEC, _CPU_TIME_SEC,
 * _MEMORY_MB, _MAX_PROCESSES, _MAX_OUTPUT_BYTES, _DISK_MB, their ceilings
 * ADO_SANDBOX_CEILING_WALL_TIME_SEC, _CPU_TIME_SEC, _MEMORY_MB, _PROCESSES, _OUTPUT_BYTES,
 * _DISK_MB, and ADO_SANDBOX_EGRESS_HOSTS (what setup with network may reach). Throws a
 * non-retryable `InvalidConfig` error naming each variable that is wrong, and when a default is
 * above its ceiling.
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
  if (vars.ADO_SANDBOX_DISK_MB !== undefined) defaults.diskBytes = vars.ADO_SANDBOX_DISK_MB * 1024 ** 2;
  const ceilings: SandboxLimits = {
    wallTimeMs: (vars.ADO_SANDBOX_CEILING_WALL_TIME_SEC ?? DEFAULT_SANDBOX_CEILINGS.wallTimeMs / 1000) * 1000,
    cpuTimeSec: vars.ADO_SANDBOX_CEILING_CPU_TIME_SEC ?? DEFAULT_SANDBOX_CEILINGS.cpuTimeSec,
    memoryBytes: vars.ADO_SANDBOX_CEILING_MEMORY_MB === undefined ? DEFAULT_SANDBOX_CEILINGS.memoryBytes : vars.ADO_SANDBOX_CEILING_MEMORY_MB * 1024 ** 2,
    maxProcesses: vars.ADO_SANDBOX_CEILING_PROCESSES ?? DEFAULT_SANDBOX_CEILINGS.maxProcesses,
    maxOutputBytes: vars.ADO_SANDBOX_CEILING_OUTPUT_BYTES ?? DEFAULT_SANDBOX_CEILINGS.maxOutputBytes,
    diskBytes: vars.ADO_SANDBOX_CEILING_DISK_MB === undefined ? DEFAULT_SANDBOX_CEILINGS.diskBytes : vars.ADO_SANDBOX_CEILING_DISK_MB * 1024 ** 2,
  };
  const above = (Object.keys(defaults) as (keyof SandboxLimits)[]).filter((name) => (defaults[name] ?? 0) > ceilings[name]);
  if (above.length > 0) {
    throw invalidConfig('sandbox', `default limits above their ceilings: ${above.map((name) => `${LIMIT_VARIABLES[name][0]} > ${LIMIT_VARIABLES[name][1]}`).join(', ')}; lower the default or raise the ceiling.`);
  }
  const config: SandboxConfig = {
    backend: vars.ADO_SANDBOX,
    allowUnsafeProcessBackend: vars.ADO_SANDBOX_ALLOW_UNSAFE,
    defaults,
    ceilings,
    egressRules: vars.ADO_SANDBOX_EGRESS_HOSTS ?? DEFAULT_EGRESS_RULES,
    platform: vars.ADO_RUNSC_PLATFORM,
  };
  if (vars.ADO_RUNSC_PATH !== undefined) config.runscPath = vars.ADO_RUNSC_PATH;
  if (vars.ADO_SANDBOX_UID !== undefined) {
    config.user = { uid: vars.ADO_SANDBOX_UID, gid: vars.ADO_SANDBOX_GID ?? vars.ADO_SANDBOX_UID };
  }
  return config;
}
