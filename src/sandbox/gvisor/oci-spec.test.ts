import { describe, expect, it } from 'vitest';
import type { HostLayout } from '../host-layout';
import { DEFAULT_SANDBOX_LIMITS } from '../types';
import { boundPaths, buildOciSpec, rootFolderEntries } from './oci-spec';

const layout: HostLayout = {
  rootEntries: [
    { path: '/bin', kind: 'symlink', target: 'usr/bin' },
    { path: '/lib64', kind: 'dir' },
  ],
  toolchainPrefix: '/opt/node',
  node: '/opt/node/bin/node',
};
const bound = boundPaths(layout, [{ path: '/etc/passwd', kind: 'file' }]);

const spec = (egressDir?: string) =>
  buildOciSpec({
    args: ['/bin/sh', '-c', 'true'],
    workdir: '/var/lib/ado/workspaces/w1',
    env: { PATH: '/usr/bin', HOME: '/tmp' },
    egressDir,
    limits: { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 512 * 1024 ** 2 },
    user: { uid: 65534, gid: 65534 },
    rootPath: '/tmp/ado-runsc/1/rootfs',
    cgroupsPath: '/ado-gvisor/ado-1',
    bound,
  });

describe('the OCI spec of a gVisor run', () => {
  it('binds the program folders, the toolchain and the /etc files read-only, and only the workspace read-write', () => {
    const { mounts, root } = spec();
    expect(root).toEqual({ path: '/tmp/ado-runsc/1/rootfs', readonly: true });
    const binds = mounts.filter((mount) => mount.type === 'bind');
    expect(binds.filter((mount) => !mount.options?.includes('ro')).map((mount) => [mount.source, mount.destination])).toEqual([['/var/lib/ado/workspaces/w1', '/workspace']]);
    expect(binds.filter((mount) => mount.options?.includes('ro')).map((mount) => mount.destination)).toEqual(['/usr', '/lib64', '/opt/node', '/etc/passwd']);
    expect(mounts.find((mount) => mount.destination === '/tmp')?.options).toContain(`size=${512 * 1024 ** 2}`);
  });

  it('runs an unprivileged user with no capabilities, the limits as rlimits and memory as the cgroup limit', () => {
    const { process: proc, linux } = spec();
    expect(proc.user).toEqual({ uid: 65534, gid: 65534 });
    expect(Object.values(proc.capabilities).flat()).toEqual([]);
    expect(proc.noNewPrivileges).toBe(true);
    expect(proc.env).toEqual(['PATH=/usr/bin', 'HOME=/tmp']);
    expect(proc.rlimits).toContainEqual({ type: 'RLIMIT_NPROC', soft: DEFAULT_SANDBOX_LIMITS.maxProcesses, hard: DEFAULT_SANDBOX_LIMITS.maxProcesses });
    expect(proc.rlimits).toContainEqual({ type: 'RLIMIT_CPU', soft: DEFAULT_SANDBOX_LIMITS.cpuTimeSec, hard: DEFAULT_SANDBOX_LIMITS.cpuTimeSec + 1 });
    expect(linux.resources.memory.limit).toBe(512 * 1024 ** 2);
    expect(linux.namespaces.map((namespace) => namespace.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
  });

  it("binds the egress proxy's folder only for a run with network", () => {
    expect(spec().mounts.some((mount) => mount.destination === '/run/ado-egress')).toBe(false);
    expect(spec('/tmp/ado-egress-x').mounts).toContainEqual({ destination: '/run/ado-egress', type: 'bind', source: '/tmp/ado-egress-x', options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  });

  it('makes a mount point for every mount and recreates the host symlinks in its own root', () => {
    const entries = rootFolderEntries(layout, bound).map((entry) => entry.path);
    expect(entries).toEqual(expect.arrayContaining(['/proc', '/tmp', '/workspace', '/run/ado-egress', '/bin', '/usr', '/opt/node', '/etc/passwd']));
    expect(rootFolderEntries(layout, bound).find((entry) => entry.path === '/bin')).toEqual({ path: '/bin', kind: 'symlink', target: 'usr/bin' });
  });
});
