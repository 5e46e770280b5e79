/**
 * Runs the topology's processes the way an orchestrator would: each one started under
 * `setpriv --pdeathsig KILL` (so none outlives the supervisor, however it dies), restarted when it
 * dies unless it was stopped on purpose, logged to `<dir>/logs/<name>.log`, and controllable from
 * another process through `controlProcess()` (a chaos harness kills and restarts them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (the supervisor must be root); PostgreSQL refuses to run as root. */
  user?: string;
  /** Start again when it exits on its own. @default true */
  restart?: boolean;
  /** What `stop` sends first (PostgreSQL: SIGINT, its fast shutdown). @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
}

export type ProcessState = 'running' | 'stopped' | 'restarting' | 'exited';

export interface ProcessStatus {
  name: string;
  state: ProcessState;
  pid?: number;
  /** How many times it was started after the first. */
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

/** What `controlProcess` may ask of one process. */
export type ControlAction = 'kill' | 'stop' | 'start' | 'restart';

interface Managed {
  spec: ProcessSpec;
  child?: ChildProcess;
  state: ProcessState;
  restarts: number;
  lastExit?: ProcessStatus['lastExit'];
  log: WriteStream;
  /** Resolves when the current child has exited. */
  exited?: Promise<void>;
  restartTimer?: NodeJS.Timeout;
}

/** Delay before restarting a process that died: enough for ports and locks to be released. */
const RESTART_DELAY_MS = 1_000;

export class Supervisor {
  private readonly processes = new Map<string, Managed>();
  private closing = false;

  constructor(
    private readonly dir: string,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Starts `spec` (its name must be new) and keeps it running. */
  async add(spec: ProcessSpec): Promise<void> {
    if (this.processes.has(spec.name)) throw new Error(`Process ${spec.name} exists already`);
    await mkdir(path.join(this.dir, 'logs'), { recursive: true });
    const log = createWriteStream(path.join(this.dir, 'logs', `${spec.name}.log`), { flags: 'a' });
    // A log that cannot be written must not take the supervisor down with it.
    log.on('error', () => {});
    const managed: Managed = { spec, state: 'stopped', restarts: 0, log };
    this.processes.set(spec.name, managed);
    this.launch(managed);
  }

  /** The processes' current states. */
  status(): ProcessStatus[] {
    return [...this.processes.values()].map((m) => ({
      name: m.spec.name,
      state: m.state,
      ...(m.child?.pid !== undefined && m.state === 'running' ? { pid: m.child.pid } : {}),
      restarts: m.restarts,
      ...(m.lastExit ? { lastExit: m.lastExit } : {}),
    }));
  }

  /**
   * `kill`: SIGKILL, and the usual restart follows (a crash). `stop`: SIGTERM, no restart until
   * `start`. `restart`: stop, then start.
   */
  async control(name: string, action: ControlAction): Promise<ProcessStatus> {
    const managed = this.processes.get(name);
    if (!managed) throw new Error(`No process named ${name}; there are ${[...this.processes.keys()].join(', ')}`);
    switch (action) {
      case 'kill':
        managed.child?.kill('SIGKILL');
        break;
      case 'stop':
        await this.stopOne(managed);
        break;
      case 'start':
        if (managed.state === 'stopped' || managed.state === 'exited') this.launch(managed);
        break;
      case 'restart':
        await this.stopOne(managed);
        this.launch(managed);
        break;
    }
    return this.status().find((s) => s.name === name)!;
  }

  /** Stops every process, in the reverse order of `add`. */
  async stopAll(): Promise<void> {
    this.closing = true;
    for (const managed of [...this.processes.values()].reverse()) await this.stopOne(managed);
    await Promise.all([...this.processes.values()].map((m) => new Promise<void>((resolve) => m.log.end(resolve))));
  }

  private launch(managed: Managed): void {
    clearTimeout(managed.restartTimer);
    const { spec } = managed;
    const who = spec.user ? ['--reuid', spec.user, '--regid', spec.user, '--init-groups'] : [];
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', ...who, '--', spec.command, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    managed.child = child;
    managed.state = 'running';
    managed.log.write(`--- ${new Date().toISOString()} start ${spec.command} ${spec.args.join(' ')}\n`);
    child.stdout?.pipe(managed.log, { end: false });
    child.stderr?.pipe(managed.log, { end: false });
    managed.exited = new Promise((resolve) => {
      // `close`, not `exit`: the child's output is all in the log by then.
      child.once('close', (code, signal) => {
        managed.lastExit = { code, signal, at: new Date().toISOString() };
        managed.log.write(`--- ${managed.lastExit.at} exit code=${code} signal=${signal}\n`);
        if (managed.child === child && managed.state === 'running') {
          const again = spec.restart !== false && !this.closing;
          managed.state = again ? 'restarting' : 'exited';
          if (again) {
            managed.restartTimer = setTimeout(() => {
              managed.restarts += 1;
              this.launch(managed);
            }, RESTART_DELAY_MS);
          }
        }
        this.onChange();
        resolve();
      });
    });
    child.once('error', (err) => managed.log.write(`--- spawn failed: ${err.message}\n`));
    this.onChange();
  }

  private async stopOne(managed: Managed): Promise<void> {
    clearTimeout(managed.restartTimer);
    const child = managed.child;
    managed.state = 'stopped';
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.onChange();
      return;
    }
    child.kill(managed.spec.stopSignal ?? 'SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await managed.exited;
    clearTimeout(killer);
    this.onChange();
  }
}
