/**
 * The OCI runtime spec (`config.json`) of one gVisor sandbox, as a pure function of what the run
 * needs and what the host looks like, so that what the sandbox sees can be read (and tested) in
 * one place. `runsc do` would be simpler and shows the whole host file system: not an option.
 *
 * - files: a root of our own making (empty folders as mount points, the host's merged-/usr
 *   symlinks), read-only; /usr, the top-level program folders and the toolchain bound read-only;
 *   the /etc files programs need (the same list as bubblewrap); gVisor's own /proc, /dev and /sys;
 *   a private size-capped /tmp and /dev/shm in the sandbox's memory; the workspace read-write at
 *   /workspace. Everything is served by gVisor's gofer; the command's system calls reach gVisor's
 *   kernel (the Sentry), never the host's.
 * - network: none of the host's (`runsc --network=none`): gVisor's own network stack with only its
 *   loopback. A run with network gets the egress proxy's socket folder (see gvisor.ts).
 * - process: an unprivileged user with no capabilities and no new privileges, the environment
 *   cleared to the allowlist, rlimits for CPU, file size, processes and core dumps (the Sentry
 *   enforces them; it does not enforce RLIMIT_DATA), and memory as the sandbox's cgroup limit:
 *   gVisor sizes its kernel's memory to it and its own out-of-memory killer stops a process that
 *   passes it.
 */
import { SANDBOX_WORKDIR } from '../bubblewrap-args';
import { EGRESS_DIR_INSIDE } from '../egress-bridge';
import type { HostLayout } from '../host-layout';
import type { Owner } from '../ownership';
import type { SandboxLimits } from '../types';

/** /dev/shm cap, as container runtimes default it. */
const DEV_SHM_BYTES = 64 * 1024 ** 2;

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

interface OciRlimit {
  type: 'RLIMIT_CPU' | 'RLIMIT_FSIZE' | 'RLIMIT_CORE' | 'RLIMIT_NPROC';
  soft: number;
  hard: number;
}

/** The part of the OCI runtime spec ADO writes (runtime-spec 1.0). */
export interface OciSpec {
  ociVersion: '1.0.2';
  process: {
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    rlimits: OciRlimit[];
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    noNewPrivileges: true;
  };
  root: { path: string; readonly: true };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string }[];
    cgroupsPath: string;
    resources: { memory: { limit: number } };
  };
}

export interface GvisorRun {
  /** The command line (`/bin/sh -c …`, or the same under the egress bridge). */
  args: string[];
  /** Host folder bound read-write at `/workspace`. */
  workdir: string;
  /** The complete environment of the command. */
  env: Record<string, string>;
  /** Host folder of the egress proxy's socket, bound at EGRESS_DIR_INSIDE; absent: no network. */
  egressDir?: string;
  limits: SandboxLimits;
  /** The user inside the sandbox. */
  user: Owner;
  /** The prepared root folder (`rootFolderEntries`). */
  rootPath: string;
  /** The sandbox's cgroup, per run: what its memory limit applies to. */
  cgroupsPath: string;
  /** Host folders and files bound read-only besides /usr and the workspace (`boundPaths`). */
  bound: readonly BoundPath[];
}

/** A host path bound read-only at the same place. */
export interface BoundPath {
  path: string;
  kind: 'dir' | 'file';
}

/** The read-only binds of this host: the top-level program folders, the toolchain, the /etc files it has. */
export function boundPaths(layout: HostLayout, etcFiles: readonly { path: string; kind: 'dir' | 'file' }[]): BoundPath[] {
  const bound: BoundPath[] = [{ path: '/usr', kind: 'dir' }];
  for (const entry of layout.rootEntries) if (entry.kind === 'dir') bound.push({ path: entry.path, kind: 'dir' });
  if (layout.toolchainPrefix !== undefined) bound.push({ path: layout.toolchainPrefix, kind: 'dir' });
  return [...bound, ...etcFiles];
}

/** What the root folder holds: a mount point for every bind and private mount, and the host's top-level symlinks. */
export function rootFolderEntries(layout: HostLayout, bound: readonly BoundPath[]): ({ path: string; kind: 'dir' | 'file' } | { path: string; kind: 'symlink'; target: string })[] {
  const points = ['/proc', '/dev', '/sys', '/tmp', SANDBOX_WORKDIR, EGRESS_DIR_INSIDE].map((path) => ({ path, kind: 'dir' as const }));
  const links = layout.rootEntries.filter((entry) => entry.kind === 'symlink');
  return [...points, ...links, ...bound];
}

/** OCI rlimits of `limits`: CPU gets a soft limit (SIGXCPU, reported as `cpu`) one second before the hard one. */
export function ociRlimits(limits: SandboxLimits): OciRlimit[] {
  return [
    { type: 'RLIMIT_CPU', soft: limits.cpuTimeSec, hard: limits.cpuTimeSec + 1 },
    { type: 'RLIMIT_FSIZE', soft: limits.diskBytes, hard: limits.diskBytes },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    { type: 'RLIMIT_NPROC', soft: limits.maxProcesses, hard: limits.maxProcesses },
  ];
}

const NO_CAPABILITIES = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };

/** The process part of a spec (also what `runsc exec --process` reads): unprivileged, no capabilities, in the workspace. */
export function ociProcess(run: Pick<GvisorRun, 'args' | 'env' | 'limits' | 'user'>): OciSpec['process'] {
  return {
    user: { uid: run.user.uid, gid: run.user.gid },
    args: run.args,
    env: Object.entries(run.env).map(([name, value]) => `${name}=${value}`),
    cwd: SANDBOX_WORKDIR,
    rlimits: ociRlimits(run.limits),
    capabilities: NO_CAPABILITIES,
    noNewPrivileges: true,
  };
}

/** The spec of one run. */
export function buildOciSpec(run: GvisorRun): OciSpec {
  const mounts: OciMount[] = run.bound.map((entry) => ({ destination: entry.path, type: 'bind', source: entry.path, options: ['rbind', 'ro', 'nosuid', 'nodev'] }));
  if (run.egressDir !== undefined) mounts.push({ destination: EGRESS_DIR_INSIDE, type: 'bind', source: run.egressDir, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  mounts.push(
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `size=${run.limits.memoryBytes}`] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', `size=${DEV_SHM_BYTES}`] },
    { destination: SANDBOX_WORKDIR, type: 'bind', source: run.workdir, options: ['rbind', 'rw', 'nosuid', 'nodev'] },
  );
  return {
    ociVersion: '1.0.2',
    process: ociProcess(run),
    root: { path: run.rootPath, readonly: true },
    hostname: 'ado-sandbox',
    mounts,
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type })),
      cgroupsPath: run.cgroupsPath,
      resources: { memory: { limit: run.limits.memoryBytes } },
    },
  };
}
