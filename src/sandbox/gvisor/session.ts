/**
 * A long-lived gVisor sandbox for one workspace: started once (`runsc run --detach` of a sandbox
 * whose first process only sleeps), then each command is a `runsc exec` into it, which skips
 * starting gVisor's kernel and gofer (measured in bench/sandbox.bench.ts).
 *
 * Each command gets its own limits (rlimits of its process), output cap, disk watch and wall
 * time; memory is the sandbox's, set when it starts. A command runs in a session of its own
 * (`setsid`), and what it leaves running in the background is killed when it ends, so one command
 * finds no process of another. A command killed by the supervisor (wall time, disk, cancellation)
 * takes the whole sandbox with it: `runsc exec` ending does not end what it started, deleting the
 * sandbox does. The next command starts a new one. Runs with network use a sandbox of their own
 * (`Sandbox.run`): the session's has no egress proxy.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COMMAND_SIGKILLED_EXIT } from '../stop-reason';
import type { SandboxLimits, SandboxRunOptions, SandboxRunResult, SandboxRunSpec, SandboxSession, StopReason } from '../types';
import type { OciSpec } from './oci-spec';
import type { RunscState } from './runsc-state';

/** The first process of a session's sandbox: it only waits. */
export const SESSION_INIT = ['/bin/sleep', 'infinity'];

/**
 * A command inside a session: in a process group of its own, waited for, its group killed after
 * (background leftovers), and a SIGKILL of it reported as COMMAND_SIGKILLED_EXIT.
 */
const EXEC_WRAPPER = `setsid /bin/sh -c "$1" & c=$!; wait "$c"; s=$?; kill -9 "-$c" 2>/dev/null; [ "$s" -eq 137 ] && exit ${COMMAND_SIGKILLED_EXIT}; exit "$s"`;

/** Endings where the supervisor killed runsc: the sandbox's state and cgroup are left to delete. */
const KILLED_BY_SUPERVISOR: ReadonlySet<StopReason> = new Set(['timeout', 'cancelled', 'disk', 'spawn-error']);

export function killedBySupervisor(result: SandboxRunResult): boolean {
  return KILLED_BY_SUPERVISOR.has(result.stopReason);
}

/** A new sandbox id (runsc's container id). */
export function sandboxId(): string {
  return `ado-${randomBytes(8).toString('hex')}`;
}

/** Writes `spec` as the bundle's config.json. */
export async function writeBundle(bundle: string, spec: OciSpec | OciSpec['process'], file = 'config.json'): Promise<string> {
  await mkdir(bundle, { recursive: true, mode: 0o700 });
  const target = path.join(bundle, file);
  await writeFile(target, JSON.stringify(spec));
  return target;
}

/** What a session needs of its gVisor sandbox (gvisor.ts). */
export interface SessionHost {
  state: RunscState;
  runsc: string;
  /** runsc's global flags. */
  flags(): string[];
  limitsFor(spec: Pick<SandboxRunSpec, 'command' | 'limits'>): SandboxLimits;
  /** The spec of the session's sandbox. */
  initSpec(id: string, workdir: string, limits: SandboxLimits): OciSpec;
  /** The process of one command. */
  process(spec: Pick<SandboxRunSpec, 'env'>, limits: SandboxLimits, args: string[]): OciSpec['process'];
  /** runsc under the supervisor, with the workspace the sandbox user's for the time. */
  supervised(args: string[], workdir: string, limits: SandboxLimits, options: SandboxRunOptions): Promise<SandboxRunResult>;
}

export class GvisorSession implements SandboxSession {
  private started: Promise<string> | undefined;
  private closed = false;
  private execs = 0;

  constructor(
    private readonly host: SessionHost,
    readonly workdir: string,
    private readonly limits: Partial<SandboxLimits> | undefined,
    /** A run in a sandbox of its own (runs with network). */
    private readonly runAlone: (spec: SandboxRunSpec, options: SandboxRunOptions) => Promise<SandboxRunResult>,
  ) {}

  async run(spec: Omit<SandboxRunSpec, 'workdir'>, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    if (this.closed) throw new Error('this sandbox session is closed: open a new one');
    if (spec.network === true) return this.runAlone({ ...spec, workdir: this.workdir }, options);
    const limits = this.host.limitsFor({ command: spec.command, limits: { ...this.limits, ...spec.limits } });
    const id = await this.sandbox();
    this.execs += 1;
    const processFile = await writeBundle(this.host.state.bundle(id), this.host.process(spec, limits, ['/bin/sh', '-c', EXEC_WRAPPER, 'sh', spec.command]), `exec-${this.execs}.json`);
    let ended: SandboxRunResult | undefined;
    try {
      ended = await this.host.supervised([...this.host.flags(), 'exec', `--process=${processFile}`, id], this.workdir, limits, options);
      return ended;
    } finally {
      await rm(processFile, { force: true });
      // What the killed command started may still run: the sandbox goes, the next command starts another.
      if (ended === undefined || killedBySupervisor(ended)) await this.stop(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const id = await this.started?.catch(() => undefined);
    if (id !== undefined) await this.stop(id);
  }

  /** The id of the running sandbox, started on first use (and after one was stopped). */
  private sandbox(): Promise<string> {
    this.started ??= this.start().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  private async start(): Promise<string> {
    const id = sandboxId();
    const limits = this.host.limitsFor({ command: '(session)', limits: this.limits });
    const bundle = this.host.state.bundle(id);
    await writeBundle(bundle, this.host.initSpec(id, this.workdir, limits));
    const started = await this.host.supervised([...this.host.flags(), 'run', '--detach', `--bundle=${bundle}`, id], this.workdir, { ...limits, wallTimeMs: 60_000 }, {});
    if (started.exitCode !== 0) {
      await this.host.state.delete(id);
      throw new Error(`could not start the session's gVisor sandbox: ${started.reason}: ${started.output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    return id;
  }

  private async stop(id: string): Promise<void> {
    if (this.started !== undefined && (await this.started.catch(() => undefined)) === id) this.started = undefined;
    await this.host.state.delete(id);
  }
}
