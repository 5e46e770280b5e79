/**
 * The sandbox contract: every command ADO runs on a repository's behalf (setup, execute, gates)
 * goes through a `Sandbox`. Backends: bubblewrap (default), gvisor (gVisor's user-space kernel),
 * and process (no isolation, explicit opt-in only).
 */
import type { OverlayFolders } from './overlay';

export interface SandboxLimits {
  /** Wall-clock limit; the whole process tree is killed when it passes. */
  wallTimeMs: number;
  /** CPU seconds (RLIMIT_CPU). */
  cpuTimeSec: number;
  /** Memory limit in bytes. */
  memoryBytes: number;
  /** Processes/threads the run may have at once. */
  maxProcesses: number;
  /** Bytes of stdout+stderr kept; the rest is cut and the result says so. */
  maxOutputBytes: number;
  /** Bytes the run may add to its workspace on disk (and the largest file it may write). */
  diskBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  wallTimeMs: 10 * 60 * 1000,
  cpuTimeSec: 600,
  memoryBytes: 2 * 1024 ** 3,
  maxProcesses: 256,
  maxOutputBytes: 1024 * 1024,
  diskBytes: 2 * 1024 ** 3,
};

/**
 * What no run gets more of, whatever its defaults or the repository ask for, unless the operator
 * sets other ceilings (ADO_SANDBOX_CEILING_*). Output has a hard bound besides (see output.ts).
 */
export const DEFAULT_SANDBOX_CEILINGS: SandboxLimits = {
  wallTimeMs: 60 * 60 * 1000,
  cpuTimeSec: 3600,
  memoryBytes: 8 * 1024 ** 3,
  maxProcesses: 1024,
  maxOutputBytes: 16 * 1024 ** 2,
  diskBytes: 8 * 1024 ** 3,
};

export interface SandboxRunSpec {
  /** A shell command line, run with `/bin/sh -c` inside the sandbox. */
  command: string;
  /** Host folder of the workspace: the only writable place, seen at `/workspace` inside. */
  workdir: string;
  /** Extra environment variables (the environment is otherwise cleared to an allowlist). */
  env?: Record<string, string>;
  /** Network access; only repository `setup` may ask for it. Default false. */
  network?: boolean;
  limits?: Partial<SandboxLimits>;
  /**
   * Run on a copy-on-write view of `workdir` instead of `workdir` itself: the command sees the
   * workspace, its writes land in `overlay.upper` and the workspace stays as it was. Only for a
   * sandbox whose `overlays` says yes for this workdir. The caller removes the folders after the
   * run (`withOverlayFolders`): what the run wrote there stays its user's until then.
   */
  overlay?: OverlayFolders;
}

/** Why a run ended. */
export type StopReason =
  | 'exit' // the command exited by itself (any exit code)
  | 'signal' // killed by a signal it did not get from us
  | 'timeout' // wall-time limit
  | 'cpu' // CPU-time limit
  | 'memory' // memory limit
  | 'disk' // disk limit: wrote more than it may to the workspace
  | 'cancelled' // the caller aborted (activity cancelled)
  | 'spawn-error'; // the sandbox itself could not start

export interface SandboxRunResult {
  exitCode: number | null;
  signal: string | null;
  stopReason: StopReason;
  /** One line for humans: "exited with code 1", "killed: wall time 30 s exceeded"… */
  reason: string;
  /** stdout and stderr interleaved as they came, up to `maxOutputBytes`. */
  output: string;
  /** True when output was cut at the cap (the output then ends with a note saying so). */
  truncated: boolean;
  durationMs: number;
}

export interface SandboxRunOptions {
  /** Aborting kills the run (stop reason `cancelled`). */
  signal?: AbortSignal;
  /** Called now and then while the run goes on (activities heartbeat here). */
  onProgress?: () => void;
}

export interface Sandbox {
  readonly backend: 'bubblewrap' | 'gvisor' | 'process';
  /**
   * True when runs execute as another, unprivileged user than ADO's own: a file ADO owns that
   * neither group nor others may write is out of a run's reach, so copies of a workspace may
   * share such files by hard link (workspace-copy.ts).
   */
  readonly runsAsOtherUser: boolean;
  run(spec: SandboxRunSpec, options?: SandboxRunOptions): Promise<SandboxRunResult>;
  /**
   * Whether runs on `workdir` can take `SandboxRunSpec.overlay` (folders from `withOverlayFolders`
   * beside it): a private tree for the price of a mount (overlay.ts). Absent: never.
   */
  overlays?(workdir: string): Promise<boolean>;
  /**
   * A long-lived sandbox for one workspace, where a backend has one that makes later commands
   * cheaper (gvisor). Callers without it, or on a backend without it, use `run`.
   */
  openSession?(workdir: string, options?: SandboxSessionOptions): Promise<SandboxSession>;
}

export interface SandboxSessionOptions {
  /** Limits the session's runs start from (memory is the session's, fixed when it starts). */
  limits?: Partial<SandboxLimits>;
}

/**
 * Commands in one workspace sharing one sandbox: the same contract as `Sandbox.run`, except that
 * memory is the session's (set when it starts) and a run killed for its wall time, its disk limit
 * or cancellation takes the whole sandbox with it (the next run starts a new one).
 */
export interface SandboxSession {
  /** The workspace every run of the session uses. */
  readonly workdir: string;
  run(spec: Omit<SandboxRunSpec, 'workdir'>, options?: SandboxRunOptions): Promise<SandboxRunResult>;
  /** Stops the sandbox and whatever still runs in it; the workspace stays. */
  close(): Promise<void>;
}
