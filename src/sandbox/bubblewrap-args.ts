/**
 * The bwrap command line of one run, as a pure function of what the run needs and what the host
 * looks like, so that what the sandbox sees can be read (and tested) in one place:
 *
 * - namespaces: all of them (user, pid, network, ipc, uts, cgroup), always: no run shares the
 *   host's network. A run that asks for network gets the egress proxy's socket folder and its
 *   command runs under the bridge (egress-bridge.ts), so it reaches the allowed package
 *   registries through the proxy and nothing else. No nested user namespaces (less kernel surface).
 * - files: /usr and the top-level program folders read-only, the /etc files programs need to
 *   run (dynamic linker cache, certificates, users and hosts tables), a fresh /proc, a minimal
 *   /dev, a private size-capped /tmp and /dev/shm, and the workspace read-write at /workspace.
 *   Not the host root, not /root, no home folder, no /run, no /var.
 * - process: its own session (no controlling terminal, so no TIOCSTI into ours), killed when bwrap
 *   or its parent dies, environment cleared to the allowlist, rlimits set by `prlimit` *inside*
 *   the user namespace (see `bubblewrap.ts` for why that makes the process limit per run).
 */
import { bridgedCommand, EGRESS_DIR_INSIDE } from './egress-bridge';
import { rlimitOptions } from './limits';
import type { HostLayout } from './host-layout';
import type { SandboxLimits } from './types';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_WORKDIR = '/workspace';

/** PATH inside the sandbox (the toolchain's bin goes first when it lives outside /usr). */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The fd bwrap keeps open in every sandboxed process (`--sync-fd`). */
const SYNC_FD = 3;
/** The fd bwrap reads before it runs the command (`--block-fd`): the supervisor says when. */
const BLOCK_FD = 4;

/** /dev/shm cap, as container runtimes default it. */
const DEV_SHM_BYTES = 64 * 1024 ** 2;

/**
 * /etc files bound read-only when the host has them: what programs need to start and to talk
 * TLS (linker cache, Debian alternatives, CA certificates on Debian and Red Hat layouts), the
 * user and hosts tables, the time zone. None of them holds a secret. Each is a mount that costs
 * time at every start and end of a run, so the list stays short.
 */
export const SANDBOX_ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/alternatives',
  '/etc/ssl/certs',
  '/etc/pki/tls/certs',
  '/etc/pki/ca-trust',
  '/etc/crypto-policies',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/localtime',
];

export interface BubblewrapRun {
  /** Shell command line, run by `/bin/sh -c`. */
  command: string;
  /** Host folder bound read-write at `/workspace`. */
  workdir: string;
  /** The complete environment of the command (allowlist plus the run's own). */
  env: Record<string, string>;
  /** Network through the egress proxy (its socket folder, and the node that runs the bridge); absent: none. */
  egress?: { proxyDir: string; nodePath: string };
  limits: SandboxLimits;
  /** Host path of `prlimit` (under /usr, so visible inside). */
  prlimitPath: string;
  layout: HostLayout;
}

/** The arguments after `bwrap` for one run. */
export function buildBubblewrapArgs(run: BubblewrapRun): string[] {
  const args = ['--unshare-all', '--unshare-user', '--disable-userns'];
  args.push('--die-with-parent', '--new-session', '--sync-fd', String(SYNC_FD), '--block-fd', String(BLOCK_FD), '--hostname', 'ado-sandbox');

  args.push(...programFolders(run.layout));
  for (const file of SANDBOX_ETC_FILES) args.push('--ro-bind-try', file, file);
  if (run.egress) args.push('--ro-bind', run.egress.proxyDir, EGRESS_DIR_INSIDE);

  args.push('--proc', '/proc', '--dev', '/dev');
  // tmpfs lives in memory outside RLIMIT_DATA, so it gets a size of its own.
  args.push('--size', String(DEV_SHM_BYTES), '--tmpfs', '/dev/shm');
  args.push('--size', String(run.limits.memoryBytes), '--tmpfs', '/tmp');
  args.push('--bind', run.workdir, SANDBOX_WORKDIR, '--chdir', SANDBOX_WORKDIR);

  args.push('--clearenv');
  for (const [name, value] of Object.entries(run.env)) args.push('--setenv', name, value);

  const shell = ['/bin/sh', '-c', run.command];
  const command = run.egress ? bridgedCommand(run.egress.nodePath, shell) : shell;
  args.push('--', run.prlimitPath, ...rlimitOptions(run.limits, { processes: true }), '--', ...command);
  return args;
}

/** /usr, the top-level program folders and the toolchain, read-only. */
function programFolders(layout: HostLayout): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const entry of layout.rootEntries) {
    if (entry.kind === 'symlink') args.push('--symlink', entry.target, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  if (layout.toolchainPrefix !== undefined) args.push('--ro-bind', layout.toolchainPrefix, layout.toolchainPrefix);
  return args;
}

/** A run of `/bin/true` in the same namespaces: does bwrap work on this host, as this user? */
export function buildProbeArgs(layout: HostLayout): string[] {
  return ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', ...programFolders(layout), '--', '/bin/true'];
}

/** PATH inside the sandbox for this host layout. */
export function sandboxPath(layout: HostLayout): string {
  return layout.toolchainPrefix === undefined ? SANDBOX_PATH : `${layout.toolchainPrefix}/bin:${SANDBOX_PATH}`;
}
