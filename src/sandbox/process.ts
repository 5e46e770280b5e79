/**
 * The `process` backend: runs commands as plain child processes of the worker. Nothing is
 * isolated (files, network, other processes, the user's own secrets on disk); only the limits
 * that need no isolation apply: wall time (the whole process group is killed), output cap,
 * cancellation, CPU time and memory (rlimits, when `prlimit` exists), and the environment
 * allowlist. No process limit: RLIMIT_NPROC outside a user namespace counts every process of
 * the user, the worker's included. For hosts where bubblewrap cannot run, behind an explicit flag.
 */
import os from 'node:os';
import which from 'which';
import type { Logger } from '../telemetry/logger';
import { sandboxEnvironment } from './environment';
import { LimitPolicy, rlimitOptions } from './limits';
import { checkedWorkdir } from './run-spec';
import { supervise } from './supervise';
import type { Sandbox, SandboxLimits, SandboxRunOptions, SandboxRunResult, SandboxRunSpec } from './types';

export interface ProcessSandboxOptions {
  logger?: Logger;
  defaults?: Partial<SandboxLimits>;
  /** What no run gets more of; default `DEFAULT_SANDBOX_CEILINGS`. */
  ceilings?: SandboxLimits;
  /** PATH of the commands and where `prlimit` is looked up; default the worker's PATH. */
  path?: string;
}

class ProcessSandbox implements Sandbox {
  readonly backend = 'process' as const;
  readonly runsAsOtherUser = false;

  constructor(
    private readonly path: string,
    private readonly prlimitPath: string | null,
    private readonly limitPolicy: LimitPolicy,
    private readonly logger: Logger | undefined,
  ) {}

  async run(spec: SandboxRunSpec, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const limits = this.limitPolicy.limitsFor(spec, this.logger);
    const workdir = await checkedWorkdir(spec);
    const env = sandboxEnvironment({ PATH: this.path, HOME: os.tmpdir() }, spec.env);
    const shell = ['-c', spec.command];
    const command =
      this.prlimitPath === null
        ? { file: '/bin/sh', args: shell }
        : { file: this.prlimitPath, args: [...rlimitOptions(limits, { processes: false }), '--', '/bin/sh', ...shell] };
    return supervise({ ...command, env, cwd: workdir, processGroup: true, writableDir: workdir }, limits, options);
  }
}

/** The unisolated backend; logs a warning saying so. */
export function createProcessSandbox(options: ProcessSandboxOptions = {}): Sandbox {
  const searchPath = options.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const prlimitPath = which.sync('prlimit', { nothrow: true, path: searchPath });
  const policy = new LimitPolicy(options.defaults, options.ceilings);
  options.logger?.warn(
    { backend: 'process', rlimits: prlimitPath !== null },
    'sandbox backend "process": commands run as plain processes of the worker, NOTHING is isolated (files, network, processes); use only with code you trust',
  );
  return new ProcessSandbox(searchPath, prlimitPath, policy, options.logger);
}
