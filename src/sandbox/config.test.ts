import { describe, expect, it } from 'vitest';
import { silentLogger } from '../telemetry/logger';
import { createSandbox, DEFAULT_EGRESS_RULES, sandboxConfigFromEnv } from './index';
import { DEFAULT_SANDBOX_CEILINGS } from './types';

describe('sandboxConfigFromEnv', () => {
  it('defaults to bubblewrap, no unsafe backend, the default user and limits', () => {
    expect(sandboxConfigFromEnv({})).toEqual({
      backend: 'bubblewrap',
      allowUnsafeProcessBackend: false,
      defaults: {},
      ceilings: DEFAULT_SANDBOX_CEILINGS,
      egressRules: DEFAULT_EGRESS_RULES,
      platform: 'systrap',
    });
  });

  it('reads the gVisor backend, its runsc path and platform, and refuses what it does not know', () => {
    expect(sandboxConfigFromEnv({ ADO_SANDBOX: 'gvisor', ADO_RUNSC_PATH: '/opt/gvisor/runsc', ADO_RUNSC_PLATFORM: 'ptrace' })).toMatchObject({
      backend: 'gvisor',
      runscPath: '/opt/gvisor/runsc',
      platform: 'ptrace',
    });
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX: 'firecracker' })).toThrow(/ADO_SANDBOX.*must be "bubblewrap" \(default\), "gvisor" or "process"/);
    expect(() => sandboxConfigFromEnv({ ADO_RUNSC_PLATFORM: 'qemu' })).toThrow(/ADO_RUNSC_PLATFORM.*must be one of systrap, ptrace, kvm/);
    expect(() => sandboxConfigFromEnv({ ADO_RUNSC_PATH: 'runsc' })).toThrow(/ADO_RUNSC_PATH.*must be an absolute path to runsc/);
  });

  it('reads the backend, the unsafe flag, the user and the limit overrides', () => {
    const config = sandboxConfigFromEnv({
      ADO_SANDBOX: 'process',
      ADO_SANDBOX_ALLOW_UNSAFE: '1',
      ADO_SANDBOX_UID: '200001',
      ADO_SANDBOX_WALL_TIME_SEC: '90',
      ADO_SANDBOX_CPU_TIME_SEC: '60',
      ADO_SANDBOX_MEMORY_MB: '512',
      ADO_SANDBOX_MAX_PROCESSES: '128',
      ADO_SANDBOX_MAX_OUTPUT_BYTES: '65536',
      ADO_SANDBOX_DISK_MB: '100',
    });
    expect(config).toMatchObject({
      backend: 'process',
      allowUnsafeProcessBackend: true,
      user: { uid: 200001, gid: 200001 },
      defaults: { wallTimeMs: 90_000, cpuTimeSec: 60, memoryBytes: 512 * 1024 ** 2, maxProcesses: 128, maxOutputBytes: 65536, diskBytes: 100 * 1024 ** 2 },
    });
    expect(sandboxConfigFromEnv({ ADO_SANDBOX_UID: '200001', ADO_SANDBOX_GID: '300' }).user).toEqual({ uid: 200001, gid: 300 });
  });

  it('reads the ceilings and the egress hosts, and refuses a default above its ceiling', () => {
    const config = sandboxConfigFromEnv({
      ADO_SANDBOX_CEILING_WALL_TIME_SEC: '1800',
      ADO_SANDBOX_CEILING_CPU_TIME_SEC: '900',
      ADO_SANDBOX_CEILING_MEMORY_MB: '4096',
      ADO_SANDBOX_CEILING_PROCESSES: '512',
      ADO_SANDBOX_CEILING_OUTPUT_BYTES: '4194304',
      ADO_SANDBOX_CEILING_DISK_MB: '1024',
      ADO_SANDBOX_EGRESS_HOSTS: 'registry.npmjs.org, *.internal.example:8443,NEXUS.corp.example',
    });
    expect(config.ceilings).toEqual({ wallTimeMs: 1_800_000, cpuTimeSec: 900, memoryBytes: 4 * 1024 ** 3, maxProcesses: 512, maxOutputBytes: 4194304, diskBytes: 1024 ** 3 });
    expect(config.egressRules).toEqual([
      { host: 'registry.npmjs.org', port: 443 },
      { host: '*.internal.example', port: 8443 },
      { host: 'nexus.corp.example', port: 443 },
    ]);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_MAX_PROCESSES: '600', ADO_SANDBOX_CEILING_PROCESSES: '512' })).toThrow(
      /ADO_SANDBOX_MAX_PROCESSES > ADO_SANDBOX_CEILING_PROCESSES/,
    );
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_CEILING_OUTPUT_BYTES: String(600 * 1024 ** 2) })).toThrow(/ADO_SANDBOX_CEILING_OUTPUT_BYTES: must be at most/);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_EGRESS_HOSTS: 'http://evil/' })).toThrow(/ADO_SANDBOX_EGRESS_HOSTS: "http:\/\/evil\/" is not a host name/);
  });

  it('treats empty variables as unset', () => {
    expect(sandboxConfigFromEnv({ ADO_SANDBOX: '', ADO_SANDBOX_UID: '', ADO_SANDBOX_MEMORY_MB: '' })).toEqual(sandboxConfigFromEnv({}));
  });

  it('names each variable that is wrong', () => {
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX: 'docker' })).toThrow(/ADO_SANDBOX: must be "bubblewrap" \(default\), "gvisor" or "process"/);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_ALLOW_UNSAFE: 'yes' })).toThrow(/ADO_SANDBOX_ALLOW_UNSAFE: must be 1 or 0/);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_UID: '0' })).toThrow(/ADO_SANDBOX_UID: must be an unprivileged id/);
    const twoWrong = () => sandboxConfigFromEnv({ ADO_SANDBOX_MEMORY_MB: 'lots', ADO_SANDBOX_WALL_TIME_SEC: '-5' });
    expect(twoWrong).toThrow(/ADO_SANDBOX_WALL_TIME_SEC: must be a positive whole number of seconds/);
    expect(twoWrong).toThrow(/ADO_SANDBOX_MEMORY_MB: must be a positive whole number of MiB/);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX_GID: '100' })).toThrow(/ADO_SANDBOX_GID is set without ADO_SANDBOX_UID/);
    expect(() => sandboxConfigFromEnv({ ADO_SANDBOX: 'docker' })).toThrowError(expect.objectContaining({ type: 'InvalidConfig', nonRetryable: true }));
  });
});

describe('createSandbox', () => {
  it('refuses the process backend unless it is allowed explicitly', () => {
    expect(() => createSandbox({ backend: 'process' })).toThrow(/without any isolation and must be allowed explicitly: set ADO_SANDBOX_ALLOW_UNSAFE=1/);
    expect(createSandbox({ backend: 'process', allowUnsafeProcessBackend: true, logger: silentLogger() }).backend).toBe('process');
  });

  it('builds the backend the environment names', () => {
    expect(createSandbox(sandboxConfigFromEnv({})).backend).toBe('bubblewrap');
    const config = sandboxConfigFromEnv({ ADO_SANDBOX: 'process', ADO_SANDBOX_ALLOW_UNSAFE: '1' });
    expect(createSandbox({ ...config, logger: silentLogger() }).backend).toBe('process');
  });
});
