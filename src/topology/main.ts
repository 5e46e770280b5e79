/**
 * `deploy/topology up|down|status|env|start|stop|build`: the one-machine production topology.
 * `up` starts a supervisor in the background (it survives the terminal) and waits until
 * everything answers; the supervisor's children die with it (`--pdeathsig`), so `down`, or
 * killing the supervisor, leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { locateTemporalServer, locateTemporalUiServer } from '../temporal/server-binaries';
import { sendControl } from './control';
import { readState, startTopology } from './topology';

const USAGE = `usage: deploy/topology <command> [--dir <folder>]
  build             build the Temporal server (and Web UI) binaries into the cache
  up [--ui]         start the topology in the background and wait until it answers
  down              stop every process of the topology
  status            the processes and their states
  env               the variables that point ado (and tests) at the topology: eval "$(deploy/topology env)"
  start|stop|kill|restart <process>   one process (postgres, temporal, git-server, api, worker-task…)
The folder defaults to $ADO_TOPOLOGY_DIR or .ado-topology; ADO's processes get this shell's
environment (the LLM settings: ADO_LLM_*…).`;

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const dirFlag = args.indexOf('--dir');
  const dir = path.resolve(dirFlag >= 0 ? (args.splice(dirFlag, 2)[1] ?? '') : (process.env.ADO_TOPOLOGY_DIR ?? '.ado-topology'));
  const ui = args.includes('--ui');
  const [command, name] = args.filter((a) => a !== '--ui');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'build':
      await locateTemporalServer({ log: say });
      await locateTemporalUiServer({ log: say });
      return 0;
    case 'serve':
      return serve(dir, ui);
    case 'up':
      return up(dir, ui, say);
    case 'down':
      await sendControl(dir, { action: 'down' });
      say(`Topology in ${dir} stopped`);
      return 0;
    case 'status':
      for (const p of await sendControl(dir, { action: 'status' })) {
        say(`${p.name.padEnd(14)} ${p.state.padEnd(10)} pid ${String(p.pid ?? '-').padEnd(8)} restarts ${p.restarts}`);
      }
      return 0;
    case 'env': {
      const state = await readState(dir);
      if (!state) throw new Error(`No topology in ${dir}; run deploy/topology up`);
      for (const [key, value] of Object.entries(state.clientEnv)) say(`export ${key}='${value}'`);
      return 0;
    }
    case 'start':
    case 'stop':
    case 'kill':
    case 'restart':
      if (!name) throw new Error(`deploy/topology ${command} needs a process name`);
      for (const p of await sendControl(dir, { action: command, name })) if (p.name === name) say(`${p.name}: ${p.state}`);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

/** The supervisor itself (what `up` starts in the background); its control socket is the topology's. */
async function serve(dir: string, ui: boolean): Promise<number> {
  const topology = await startTopology({ dir, env: process.env, ui, log: (line) => process.stdout.write(`[topology] ${line}\n`) });
  const down = () => void topology.stop();
  process.once('SIGTERM', down);
  process.once('SIGINT', down);
  process.stdout.write('[topology] ready\n');
  await topology.stopped;
  return 0;
}

/** Starts `serve` detached, logging to `<dir>/logs/supervisor.log`, and waits for "ready". */
async function up(dir: string, ui: boolean, say: (line: string) => void): Promise<number> {
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const logFile = path.join(dir, 'logs', 'supervisor.log');
  const out = openSync(logFile, 'a');
  // Only this start's lines are shown: the log keeps earlier ones.
  let shown = (await readFile(logFile, 'utf8')).split('\n').length - 1;
  const child = spawn(process.execPath, [__filename, 'serve', '--dir', dir, ...(ui ? ['--ui'] : [])], { detached: true, stdio: ['ignore', out, out], env: process.env });
  let exited = false;
  child.once('exit', () => (exited = true));
  say(`Starting the topology in ${dir} (supervisor pid ${child.pid}; log ${logFile})…`);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const lines = (await readFile(logFile, 'utf8')).split('\n');
    const fresh = lines.slice(shown, -1);
    for (const line of fresh) if (line.startsWith('[topology]')) say(line);
    shown = lines.length - 1;
    if (fresh.includes('[topology] ready')) break;
    if (exited) {
      process.stderr.write(`The topology did not start; the end of ${logFile}:\n${lines.slice(-30).join('\n')}\n`);
      return 1;
    }
  }
  child.unref();
  say(`Up. Point ado at it with: eval "$(deploy/topology env${dir === path.resolve('.ado-topology') ? '' : ` --dir ${dir}`})"`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`topology: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
