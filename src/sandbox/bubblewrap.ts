/**
 * The `bubblewrap` backend: each run is `bwrap <view> -- prlimit <rlimits> -- /bin/sh -c <command>`
 * (the view is described in bubblewrap-args.ts).
 *
 * Root or not, measured on Debian 12 (bwrap 0.8, kernel 6.x, unprivileged user namespaces on):
 * - Started by root, bwrap maps uid 0 to host uid 0 and the command keeps every capability
 *   inside its namespaces; the kernel also ignores RLIMIT_NPROC for host uid 0, so a fork bomb
 *   is not contained. So as root, each run is spawned as an unprivileged user (spawn's uid/gid,
 *   which also drops supplementary groups; default nobody, 65534), bwrap builds an unprivileged
 *   user namespace, and the workspace belongs to that user for the run (ownership.ts).
 * - Started by anyone else, the sandbox runs as that user.
 * - One uid serves every run at once: since Linux 5.14 RLIMIT_NPROC is counted per user
 *   namespace, and `prlimit` runs inside the run's own one, so a run's limit counts its own
 *   processes only (measured: a sandbox at its limit of 50 while another with the same uid
 *   started 40 more). Runs cannot see or signal each other (pid namespaces).
 *
 * bwrap gets an empty environment: its init is pid 1 inside and /proc/1/environ is readable
 * there. The wall-time kill needs only bwrap's own process: --die-with-parent takes the namespace
 * init with it, and the kernel kills every process of a pid namespace whose init dies; the run
 * ends when the --sync-fd pipe, which every sandboxed process holds, closes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import which from 'which';
import { FailureType, nonRetryable } from '../domain/errors';
import type { Logger } from '../telemetry/logger';
import { buildBubblewrapArgs, buildProbeArgs, sandboxPath } from './bubblewrap-args';
import { proxyEnvironment } from './egress-bridge';
import { DEFAULT_EGRESS_RULES, startEgressProxy, type EgressProxy, type EgressRule } from './egress-proxy';
import { sandboxEnvironment } from './environment';
import { detectHostLayout, type HostLayout } from './host-layout';
import { LimitPolicy } from './limits';
import { assertReachable, sandboxUser, WorkspaceOwnership, type Owner } from './ownership';
import { findOverlayTools, overlayCommand, overlayMountOptions, OverlaySupport, type OverlayTools } from './overlay';
import { checkedWorkdir } from './run-spec';
import { bwrapSetupFailure } from './stop-reason';
import { supervise } from './supervise';
import { untilSuccess } from './until-success';
import type { Sandbox, SandboxLimits, SandboxRunOptions, SandboxRunResult, SandboxRunSpec } from './types';

const execFileAsync = promisify(execFile);

export interface BubblewrapSandboxOptions {
  logger?: Logger;
  defaults?: Partial<SandboxLimits>;
  /** What no run gets more of; default `DEFAULT_SANDBOX_CEILINGS`. */
  ceilings?: SandboxLimits;
  /** Host user the commands run as when ADO runs as root (default 65534:65534); ignored otherwise. */
  user?: Owner;
  /** Where `bwrap` and `prlimit` are looked up; default the worker's PATH. */
  path?: string;
  /** Hosts runs with network may reach through the egress proxy; default the package registries. */
  egressRules?: readonly EgressRule[];
}

const BACKEND_CHOICE =
  'or choose the process backend explicitly (ADO_SANDBOX=process and ADO_SANDBOX_ALLOW_UNSAFE=1: nothing is isolated then)';

function requireExecutable(name: string, searchPath: string | undefined, install: string): string {
  const found = which.sync(name, { nothrow: true, path: searchPath });
  if (found === null) {
    throw nonRetryable(FailureType.InvalidConfig, `${name} was not found on PATH: ${install}, ${BACKEND_CHOICE}.`);
  }
  return found;
}

class BubblewrapSandbox implements Sandbox {
  readonly backend = 'bubblewrap' as const;
  get runsAsOtherUser(): boolean {
    return this.user !== undefined;
  }
  private readonly layout: HostLayout = detectHostLayout();
  private readonly ownership: WorkspaceOwnership | undefined;
  private readonly overlaySupport: OverlaySupport;
  /** Once per sandbox: can bwrap build its namespaces here, as the sandbox user? */
  private readonly ensureUsable = untilSuccess(() => this.probe());
  /** The egress proxy of this sandbox's runs with network, started by the first of them. */
  private readonly egressProxy: () => Promise<EgressProxy>;

  constructor(
    private readonly bwrapPath: string,
    private readonly prlimitPath: string,
    private readonly user: Owner | undefined,
    private readonly limitPolicy: LimitPolicy,
    private readonly egressRules: readonly EgressRule[],
    private readonly logger: Logger | undefined,
    private readonly overlayTools: OverlayTools | undefined,
  ) {
    this.ownership = user === undefined ? undefined : new WorkspaceOwnership(user);
    this.overlaySupport = new OverlaySupport(user === undefined ? undefined : overlayTools);
    this.egressProxy = untilSuccess(() => startEgressProxy({ rules: this.egressRules, logger: this.logger }));
  }

  overlays(workdir: string): Promise<boolean> {
    return this.overlaySupport.usable(workdir);
  }

  async run(spec: SandboxRunSpec, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const limits = this.limitPolicy.limitsFor(spec, this.logger);
    const workdir = await checkedWorkdir(spec);
    await this.ensureUsable();
    // On an overlay the run sees the view and writes its upper folder; the workspace is only read.
    const view = spec.overlay?.merged ?? workdir;
    if (this.user !== undefined) await assertReachable(view, this.user);
    const egress = spec.network === true ? { proxyDir: (await this.egressProxy()).dir, nodePath: this.layout.node } : undefined;
    const env = sandboxEnvironment({ PATH: sandboxPath(this.layout), HOME: '/tmp' }, { ...(egress && proxyEnvironment()), ...spec.env });
    const args = buildBubblewrapArgs({
      command: spec.command,
      workdir: view,
      env,
      egress,
      limits,
      prlimitPath: this.prlimitPath,
      layout: this.layout,
    });
    const releases = [await this.ownership?.lease(workdir, { readOnly: spec.overlay !== undefined })];
    let result: SandboxRunResult;
    try {
      const common = { env: {}, cwd: '/', syncPipe: true, blockPipe: true } as const;
      if (spec.overlay === undefined) {
        result = await supervise(
          { ...common, file: this.bwrapPath, args, uid: this.user?.uid, gid: this.user?.gid, writableDir: workdir },
          limits,
          options,
        );
      } else {
        if (this.user === undefined || this.overlayTools === undefined) throw new Error('This sandbox cannot run on an overlay (overlays() says so): run on the workspace or a copy.');
        releases.push(await this.ownership?.lease(spec.overlay.upper, { discarded: true }));
        const wrapped = overlayCommand(this.overlayTools, overlayMountOptions(workdir, spec.overlay), spec.overlay.merged, this.user, this.bwrapPath, args);
        result = await supervise({ ...common, ...wrapped, writableDir: spec.overlay.upper }, limits, options);
      }
    } finally {
      for (const release of releases.reverse()) await release?.();
    }
    result = bwrapSetupFailure(result);
    this.logger?.debug(
      { command: spec.command, stopReason: result.stopReason, exitCode: result.exitCode, durationMs: result.durationMs },
      'sandbox run ended',
    );
    return result;
  }

  private async probe(): Promise<void> {
    try {
      await execFileAsync(this.bwrapPath, buildProbeArgs(this.layout), { env: {}, cwd: '/', uid: this.user?.uid, gid: this.user?.gid });
    } catch (error) {
      const detail = ((error as { stderr?: string }).stderr ?? '').trim() || (error as Error).message;
      throw nonRetryable(
        FailureType.InvalidConfig,
        `bubblewrap cannot create its namespaces on this host (${detail}). Enable unprivileged user namespaces ` +
          '(sysctl user.max_user_namespaces=15000; on Ubuntu 23.10+ also kernel.apparmor_restrict_unprivileged_userns=0 ' +
          `or an AppArmor profile for bwrap), ${BACKEND_CHOICE}.`,
        { cause: error },
      );
    }
  }
}

/**
 * The bubblewrap backend. Throws a non-retryable `InvalidConfig` error when bwrap or prlimit is
 * missing, or when asked to run as a user it cannot be; the first run checks that bwrap can
 * create namespaces and fails the same way when it cannot.
 */
export function createBubblewrapSandbox(options: BubblewrapSandboxOptions = {}): Sandbox {
  const searchPath = options.path ?? process.env.PATH;
  const bwrapPath = requireExecutable('bwrap', searchPath, 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)');
  const prlimitPath = requireExecutable('prlimit', searchPath, 'install util-linux');
  const policy = new LimitPolicy(options.defaults, options.ceilings);
  const overlayTools = findOverlayTools(searchPath);
  return new BubblewrapSandbox(bwrapPath, prlimitPath, sandboxUser(options.user), policy, options.egressRules ?? DEFAULT_EGRESS_RULES, options.logger, overlayTools);
}
