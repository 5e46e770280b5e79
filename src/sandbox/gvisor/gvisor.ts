/**
 * The `gvisor` backend: each run is one gVisor sandbox, `runsc run` of an OCI bundle written for
 * it (oci-spec.ts). The command's system calls are served by gVisor's own kernel (the Sentry, a
 * user-space Go program under a tight seccomp filter), so a bug in the host kernel's system call
 * surface is not one step away, as it is under bubblewrap.
 *
 * - Root only: runsc builds namespaces, a chroot and a cgroup for each sandbox. Commands run as an
 *   unprivileged user inside (ADO_SANDBOX_UID, default nobody) with no capabilities, and the
 *   workspace is handed to that user for the run (ownership.ts), as under bubblewrap.
 * - Ending: `runsc run` stays attached to its sandbox, which dies with it (the Sentry gets SIGKILL
 *   when runsc does), so the supervisor's wall-time, disk and cancellation kills need only runsc's
 *   process; a run we killed is then deleted (`runsc delete --force`) so its state and cgroup go.
 * - Network: never the host's. gVisor's own stack has only its loopback; a run with network gets
 *   the egress proxy's socket folder bound in (runsc may then connect to host unix sockets there:
 *   `--host-uds=open`), and its command runs under the same bridge as bubblewrap's.
 * - Crash: sandboxes live under a folder per worker process (runsc-state.ts); the next worker
 *   reaps what a dead one left.
 */
import { lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FailureType, nonRetryable } from '../../domain/errors';
import type { Logger } from '../../telemetry/logger';
import { SANDBOX_ETC_FILES, sandboxPath } from '../bubblewrap-args';
import { bridgedCommand, proxyEnvironment } from '../egress-bridge';
import { DEFAULT_EGRESS_RULES, startEgressProxy, type EgressProxy, type EgressRule } from '../egress-proxy';
import { sandboxEnvironment } from '../environment';
import { detectHostLayout, type HostLayout } from '../host-layout';
import { LimitPolicy } from '../limits';
import { assertReachable, sandboxUser, WorkspaceOwnership, type Owner } from '../ownership';
import { checkedWorkdir } from '../run-spec';
import { COMMAND_SIGKILLED_EXIT, gvisorEnding } from '../stop-reason';
import { supervise } from '../supervise';
import { untilSuccess } from '../until-success';
import type { Sandbox, SandboxLimits, SandboxRunOptions, SandboxRunResult, SandboxRunSpec, SandboxSession, SandboxSessionOptions } from '../types';
import { boundPaths, buildOciSpec, ociProcess, rootFolderEntries, type BoundPath } from './oci-spec';
import type { RunscPlatform } from './platforms';
import { locateRunsc } from './runsc-binary';
import { RunscState } from './runsc-state';
import { GvisorSession, killedBySupervisor, SESSION_INIT, sandboxId, writeBundle, type SessionHost } from './session';

export interface GvisorSandboxOptions {
  logger?: Logger;
  defaults?: Partial<SandboxLimits>;
  /** What no run gets more of; default `DEFAULT_SANDBOX_CEILINGS`. */
  ceilings?: SandboxLimits;
  /** The user commands run as inside (default 65534:65534). */
  user?: Owner;
  /** Hosts runs with network may reach through the egress proxy; default the package registries. */
  egressRules?: readonly EgressRule[];
  /** ADO_RUNSC_PATH; otherwise PATH, ADO's cache, or a build from the Go module proxy. */
  runscPath?: string;
  /** @default 'systrap' */
  platform?: RunscPlatform;
  /** Where the worker's sandbox folders live (default under the system temp folder). */
  stateBase?: string;
  /** Lines for people about finding or building runsc (default: the logger's info). */
  progress?: (line: string) => void;
}

const BACKEND_CHOICE = 'or use ADO_SANDBOX=bubblewrap';



interface Prepared {
  runsc: string;
  state: RunscState;
  rootPath: string;
  bound: BoundPath[];
}

/** The kind of each /etc file the host has (bound as it is; a missing one is left out). */
async function hostEtcFiles(): Promise<BoundPath[]> {
  const found: BoundPath[] = [];
  for (const file of SANDBOX_ETC_FILES) {
    try {
      found.push({ path: file, kind: (await stat(file)).isDirectory() ? 'dir' : 'file' });
    } catch {
      // Not on this host: nothing to show.
    }
  }
  return found;
}

/** Makes the sandboxes' read-only root folder: mount points and the host's top-level symlinks. */
async function prepareRootFolder(rootPath: string, layout: HostLayout, bound: readonly BoundPath[]): Promise<void> {
  await mkdir(rootPath, { recursive: true, mode: 0o755 });
  for (const entry of rootFolderEntries(layout, bound)) {
    const inside = path.join(rootPath, entry.path);
    await mkdir(path.dirname(inside), { recursive: true, mode: 0o755 });
    if (await lstat(inside).then(() => true, () => false)) continue;
    if (entry.kind === 'symlink') await symlink(entry.target, inside);
    else if (entry.kind === 'dir') await mkdir(inside, { mode: 0o755 });
    else await writeFile(inside, '', { mode: 0o644 });
  }
}

class GvisorSandbox implements Sandbox {
  readonly backend = 'gvisor' as const;
  /** Not relied on: gVisor's file server, not the host kernel, decides what a run may write. */
  readonly runsAsOtherUser = false;
  private readonly layout: HostLayout = detectHostLayout();
  private readonly ownership: WorkspaceOwnership;
  /** Once per sandbox: runsc found (or built), state folder opened, root folder made, a first run of `true`. */
  private readonly ensureReady = untilSuccess(() => this.prepare());
  /** The egress proxy of this sandbox's runs with network, started by the first of them. */
  private readonly egressProxy: () => Promise<EgressProxy>;

  constructor(
    private readonly user: Owner,
    private readonly limitPolicy: LimitPolicy,
    private readonly egressRules: readonly EgressRule[],
    private readonly options: GvisorSandboxOptions,
  ) {
    this.ownership = new WorkspaceOwnership(user);
    this.egressProxy = untilSuccess(() => startEgressProxy({ rules: this.egressRules, logger: this.options.logger }));
  }

  async run(spec: SandboxRunSpec, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const prepared = await this.ensureReady();
    return this.runIn(prepared, spec, options);
  }

  async openSession(workdir: string, options: SandboxSessionOptions = {}): Promise<SandboxSession> {
    const prepared = await this.ensureReady();
    const checked = await checkedWorkdir({ command: 'session', workdir });
    await assertReachable(checked, this.user);
    return new GvisorSession(this.sessionHost(prepared), checked, options.limits, (spec, runOptions) => this.runIn(prepared, spec, runOptions));
  }

  private async runIn(prepared: Prepared, spec: SandboxRunSpec, options: SandboxRunOptions): Promise<SandboxRunResult> {
    const limits = this.limitPolicy.limitsFor(spec, this.options.logger);
    const workdir = await checkedWorkdir(spec);
    await assertReachable(workdir, this.user);
    const egressDir = spec.network === true ? (await this.egressProxy()).dir : undefined;
    // The command is not the sandbox's first process: a shell waits for it and tells a SIGKILL of
    // the command (gVisor's out-of-memory killer) apart from one of the whole sandbox.
    const shell = ['/bin/sh', '-c', `/bin/sh -c "$1"; s=$?; [ "$s" -eq 137 ] && exit ${COMMAND_SIGKILLED_EXIT}; exit "$s"`, 'sh', spec.command];
    const id = sandboxId();
    const bundle = prepared.state.bundle(id);
    const ociSpec = buildOciSpec({
      ...this.processParts(spec, limits, egressDir === undefined ? shell : bridgedCommand(this.layout.node, shell), egressDir),
      workdir,
      egressDir,
      rootPath: prepared.rootPath,
      cgroupsPath: `/ado-gvisor/${id}`,
      bound: prepared.bound,
    });
    await writeBundle(bundle, ociSpec);
    let ended: SandboxRunResult | undefined;
    try {
      ended = await this.supervised(prepared, [...this.runscFlags(prepared, egressDir !== undefined), 'run', `--bundle=${bundle}`, id], workdir, limits, options);
    } finally {
      // A run that ended by itself is gone already; one we killed leaves its state and cgroup.
      if (ended === undefined || killedBySupervisor(ended)) await prepared.state.delete(id);
      else await rm(bundle, { recursive: true, force: true });
    }
    this.options.logger?.debug({ command: spec.command, stopReason: ended.stopReason, exitCode: ended.exitCode, durationMs: ended.durationMs }, 'sandbox run ended');
    return ended;
  }

  /** The user, environment, limits and command line of a run. */
  private processParts(spec: Pick<SandboxRunSpec, 'env'>, limits: SandboxLimits, args: string[], egressDir?: string) {
    const env = sandboxEnvironment({ PATH: sandboxPath(this.layout), HOME: '/tmp' }, { ...(egressDir !== undefined && proxyEnvironment()), ...spec.env });
    return { args, env, limits, user: this.user };
  }

  /** runsc (run or exec) under the supervisor, with the workspace the sandbox user's for the time. */
  private async supervised(prepared: Prepared, args: string[], workdir: string, limits: SandboxLimits, options: SandboxRunOptions): Promise<SandboxRunResult> {
    const release = await this.ownership.lease(workdir);
    try {
      return gvisorEnding(await supervise({ file: prepared.runsc, args, env: {}, cwd: '/', writableDir: workdir }, limits, options), limits);
    } finally {
      await release();
    }
  }

  /** What a session needs of this sandbox. */
  private sessionHost(prepared: Prepared): SessionHost {
    return {
      state: prepared.state,
      runsc: prepared.runsc,
      flags: () => this.runscFlags(prepared, false),
      limitsFor: (spec) => this.limitPolicy.limitsFor(spec, this.options.logger),
      initSpec: (id, workdir, limits) =>
        buildOciSpec({ ...this.processParts({}, limits, SESSION_INIT), workdir, rootPath: prepared.rootPath, cgroupsPath: `/ado-gvisor/${id}`, bound: prepared.bound }),
      process: (spec, limits, args) => ociProcess(this.processParts(spec, limits, args)),
      supervised: (args, workdir, limits, options) => this.supervised(prepared, args, workdir, limits, options),
    };
  }

  private runscFlags(prepared: Prepared, network: boolean): string[] {
    const flags = [`--root=${prepared.state.root}`, '--network=none', `--platform=${this.options.platform ?? 'systrap'}`, '--overlay2=none'];
    if (network) flags.push('--host-uds=open');
    return flags;
  }

  private async prepare(): Promise<Prepared> {
    const logger = this.options.logger;
    const runsc = await locateRunsc({ configuredPath: this.options.runscPath, log: this.options.progress ?? ((line) => logger?.info(line)) });
    const state = await RunscState.open(runsc, this.options.stateBase, logger);
    const bound = boundPaths(this.layout, await hostEtcFiles());
    const rootPath = path.join(state.folder, 'rootfs');
    await prepareRootFolder(rootPath, this.layout, bound);
    const prepared = { runsc, state, rootPath, bound };
    const workdir = await mkdtemp(path.join(os.tmpdir(), 'ado-gvisor-probe-'));
    try {
      const result = await this.runIn(prepared, { command: 'true', workdir, limits: { wallTimeMs: 60_000 } }, {});
      if (result.exitCode !== 0) {
        throw nonRetryable(
          FailureType.InvalidConfig,
          `gVisor cannot start a sandbox on this host (${result.reason}: ${result.output.trim().split('\n').slice(-3).join(' | ')}). ` +
            `Try another platform (ADO_RUNSC_PLATFORM=ptrace), ${BACKEND_CHOICE}.`,
        );
      }
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
    return prepared;
  }
}

/**
 * The gVisor backend. Throws a non-retryable `InvalidConfig` error when ADO does not run as root
 * or the user is root; the first run finds (or builds) runsc and checks that a sandbox starts, and
 * fails the same way when it cannot.
 */
export function createGvisorSandbox(options: GvisorSandboxOptions = {}): Sandbox {
  if (process.getuid?.() !== 0) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `The gVisor backend needs root: runsc makes namespaces, a chroot and a cgroup for each sandbox (commands still run unprivileged inside). Run the worker as root, ${BACKEND_CHOICE}.`,
    );
  }
  const user = sandboxUser(options.user) as Owner;
  const policy = new LimitPolicy(options.defaults, options.ceilings);
  return new GvisorSandbox(user, policy, options.egressRules ?? DEFAULT_EGRESS_RULES, options);
}
