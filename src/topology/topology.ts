/**
 * ADO's production topology on one machine, for real: Debian's PostgreSQL, the Temporal server
 * (built from the Go module proxy) on it with the compose file's configuration files, the git
 * server holding the shared remotes, the ADO API, and the three worker pools as separate
 * processes, each with its own home and scratch folders and nothing on disk in common. Every
 * process runs under the supervisor; `state.json` in the topology folder says where everything is.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { codecKeysFromEnv } from '../codec/keys-config';
import { locateBinary, TEMPORAL_CLI } from '../temporal/binaries';
import { isPortFree } from '../temporal/ports';
import { locateTemporalServer, locateTemporalUiServer } from '../temporal/server-binaries';
import { serveControl } from './control';
import { Supervisor, type ProcessSpec } from './supervisor';

const run = promisify(execFile);

/** The repository's root: deploy/ (shared configuration) and bin/ado.js live there. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

export const WORKER_POOLS = ['task', 'code', 'review'] as const;

export interface TopologyOptions {
  /** The topology's folder: data, secrets, logs, state.json, control socket. */
  dir: string;
  /** Passed to ADO's processes (the LLM settings, …) under the topology's own settings. */
  env?: NodeJS.ProcessEnv;
  namespace?: string;
  /** Also build and run the Temporal Web UI server (when it builds). @default false */
  ui?: boolean;
  log?: (line: string) => void;
}

/** Where everything is: written to `<dir>/state.json` and returned by `startTopology`. */
export interface TopologyState {
  supervisorPid: number;
  startedAt: string;
  dir: string;
  namespace: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  apiUrl: string;
  gitUrl: string;
  databaseUrl: string;
  postgresPort: number;
  /** What a client (`ado`, a test) sets to use this topology; secrets included (the folder is 0700). */
  clientEnv: Record<string, string>;
  processes: ReturnType<Supervisor['status']>;
}

export interface RunningTopology {
  state: TopologyState;
  supervisor: Supervisor;
  /** Stops every process (and the control socket). */
  stop(): Promise<void>;
  /** Resolves once the topology has stopped, by `stop()` or a `down` on the control socket. */
  stopped: Promise<void>;
}

export function statePath(dir: string): string {
  return path.join(dir, 'state.json');
}

/** Starts every process and sets up what they need; `stop()` ends them all. */
export async function startTopology(options: TopologyOptions): Promise<RunningTopology> {
  const log = options.log ?? (() => {});
  const dir = path.resolve(options.dir);
  const namespace = options.namespace ?? 'default';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o711);
  const secrets = await ensureSecrets(dir);

  log('Temporal server binaries…');
  const binaries = await locateTemporalServer({ env: process.env, log });
  const temporalCli = await locateBinary(TEMPORAL_CLI, { log });
  const uiServer = options.ui ? await locateTemporalUiServer({ log }) : undefined;

  const ports = await allocatePorts();
  let state: TopologyState | undefined;
  // One write at a time, in order; a write after the folder is gone (stopped and removed) is moot.
  let writing = Promise.resolve();
  const supervisor = new Supervisor(dir, () => {
    if (state) writing = writing.then(() => writeState(dir, { ...state!, processes: supervisor.status() })).catch(() => {});
  });
  let closeControl = async () => {};
  let markStopped = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = async () => {
    await closeControl();
    await supervisor.stopAll();
    state = undefined;
    await writing;
    markStopped();
  };
  try {
    const pg = await startPostgres(supervisor, dir, ports.postgres, secrets, log);
    const databaseUrl = `postgres://ado@127.0.0.1:${ports.postgres}/ado`;

    log('Temporal schemas (deploy/temporal/setup-schema.sh with the sql tool)…');
    const toolDir = path.join(dir, 'tools');
    await mkdir(toolDir, { recursive: true });
    await linkTool(binaries.sql, path.join(toolDir, 'temporal-sql-tool'));
    await linkTool(temporalCli, path.join(toolDir, 'temporal'));
    const toolPath = `${toolDir}:${process.env.PATH ?? ''}`;
    await runScript('setup-schema.sh', {
      PATH: toolPath,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(ports.postgres),
      POSTGRES_USER: 'temporal',
      POSTGRES_PASSWORD_FILE: pg.temporalPasswordFile,
      TEMPORAL_SCHEMA_DIR: binaries.postgresSchemas,
    });

    const temporalAddress = `127.0.0.1:${ports.frontend}`;
    await supervisor.add({
      name: 'temporal',
      command: binaries.server,
      args: ['--config-file', path.join(REPO_ROOT, 'deploy', 'temporal', 'config.yaml'), '--allow-no-auth', 'start'],
      env: {
        PATH: process.env.PATH,
        POSTGRES_SEEDS: '127.0.0.1',
        DB_PORT: String(ports.postgres),
        POSTGRES_USER: 'temporal',
        POSTGRES_PWD: secrets.temporalDb,
        BIND_ON_IP: '127.0.0.1',
        TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
        FRONTEND_GRPC_PORT: String(ports.frontend),
        FRONTEND_HTTP_PORT: String(ports.frontendHttp),
        FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
        HISTORY_GRPC_PORT: String(ports.history),
        HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
        MATCHING_GRPC_PORT: String(ports.matching),
        MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
        WORKER_GRPC_PORT: String(ports.worker),
        WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
        PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.temporalMetrics}`,
        DYNAMIC_CONFIG_FILE_PATH: path.join(REPO_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml'),
      },
    });
    log(`Temporal server on ${temporalAddress}; namespace and search attributes (deploy/temporal/setup-namespace.sh)…`);
    await runScript('setup-namespace.sh', { PATH: toolPath, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace, NAMESPACE_RETENTION: '1d' });

    let temporalUiUrl: string | undefined;
    if (uiServer) {
      temporalUiUrl = `http://127.0.0.1:${ports.ui}`;
      await supervisor.add({
        name: 'temporal-ui',
        command: uiServer,
        args: ['--env', 'topology', 'start'],
        cwd: await uiConfigDir(dir, temporalAddress, ports.ui, namespace),
        env: { PATH: process.env.PATH },
      });
    }

    const gitRoot = path.join(dir, 'git');
    const gitUrl = `http://127.0.0.1:${ports.git}/git`;
    const ado = (args: string[], env: Record<string, string>): Omit<ProcessSpec, 'name'> => ({
      command: process.execPath,
      args: [path.join(REPO_ROOT, 'bin', 'ado.js'), ...args],
      env,
      cwd: dir,
    });
    await supervisor.add({ name: 'git-server', ...ado(['git-server', '--root', gitRoot, '--port', String(ports.git)], { PATH: process.env.PATH ?? '', ADO_GIT_SERVER_TOKEN: secrets.gitToken }) });

    const apiUrl = `http://127.0.0.1:${ports.api}`;
    // What every ADO process and every client of the topology shares.
    const shared: Record<string, string> = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      ADO_DATABASE_URL: databaseUrl,
      PGPASSWORD: secrets.adoDb,
      ADO_CODEC: 'on',
      ADO_CODEC_KEY_FILE: secrets.codecKeyFile,
      ADO_GIT_REMOTES: gitUrl,
      ADO_GIT_REMOTES_CREDENTIALS: secrets.gitToken,
    };
    const common: Record<string, string> = { ...stringEnv(options.env ?? {}), PATH: process.env.PATH ?? '', ...shared, ADO_METRICS_PORT: 'off' };
    const home = async (name: string) => {
      const base = path.join(dir, 'processes', name);
      await mkdir(path.join(base, 'tmp'), { recursive: true });
      // The sandbox user must reach the workspaces (see ADO_WORKSPACES in docs/configuration.md).
      await chmod(path.join(base, 'tmp'), 0o1777);
      return { ADO_HOME: path.join(base, 'home'), TMPDIR: path.join(base, 'tmp'), ADO_WORKSPACES: path.join(base, 'tmp', 'workspaces'), ADO_GIT_CACHE: path.join(base, 'git-cache') };
    };
    await supervisor.add({ name: 'api', ...ado(['api', '--port', String(ports.api)], { ...common, ...(await home('api')), ADO_API_TOKENS: `topology:${secrets.apiToken}` }) });
    for (const pool of WORKER_POOLS) {
      await supervisor.add({ name: `worker-${pool}`, ...ado(['worker', '--pool', pool], { ...common, ...(await home(`worker-${pool}`)) }) });
    }

    const clientEnv: Record<string, string> = { ...shared, ADO_API_URL: apiUrl, ADO_API_TOKEN: secrets.apiToken };
    state = {
      supervisorPid: process.pid,
      startedAt: new Date().toISOString(),
      dir,
      namespace,
      temporalAddress,
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      apiUrl,
      gitUrl,
      databaseUrl,
      postgresPort: ports.postgres,
      clientEnv,
      processes: supervisor.status(),
    };
    await writeState(dir, state);
    await waitForHttp(`${apiUrl}/healthz`, 'the ADO API');
    await waitForHttp(`http://127.0.0.1:${ports.git}/healthz`, 'the git server');
    closeControl = await serveControl(dir, async (request) => {
      if (request.action === 'down') setImmediate(() => void stop());
      else if (request.action !== 'status') await supervisor.control(request.name, request.action);
      return supervisor.status();
    });
    log(`Topology up: ${supervisor.status().map((p) => p.name).join(', ')}`);
    return { state, supervisor, stop, stopped };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reads `<dir>/state.json`; undefined when no topology was started there. */
export async function readState(dir: string): Promise<TopologyState | undefined> {
  const text = await readFile(statePath(dir), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as TopologyState);
}

async function writeState(dir: string, state: TopologyState): Promise<void> {
  const file = statePath(dir);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

interface Secrets {
  temporalDb: string;
  adoDb: string;
  gitToken: string;
  apiToken: string;
  codecKeyFile: string;
}

/** The topology's passwords and tokens, made once and kept in `<dir>/secrets` (0700). */
async function ensureSecrets(dir: string): Promise<Secrets> {
  const folder = path.join(dir, 'secrets');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const secret = async (name: string): Promise<string> => {
    const file = path.join(folder, name);
    if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
    const value = randomBytes(24).toString('hex');
    await writeFile(file, `${value}\n`, { mode: 0o600 });
    return value;
  };
  const keys = codecKeysFromEnv({}, folder, { generate: true });
  if (!keys) throw new Error('No codec key could be made');
  return { temporalDb: await secret('temporal_db_password'), adoDb: await secret('ado_db_password'), gitToken: await secret('git_token'), apiToken: await secret('api_token'), codecKeyFile: keys.source };
}

async function allocatePorts() {
  const names = [
    'postgres',
    'frontend',
    'frontendHttp',
    'frontendMembership',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
    'temporalMetrics',
    'ui',
    'git',
    'api',
  ] as const;
  // Below 32768: Temporal stores its ports in a PostgreSQL smallint (cluster membership), and
  // the kernel hands out ephemeral ports above it.
  const ports = new Set<number>();
  while (ports.size < names.length) {
    const port = 20_000 + randomInt(12_000);
    if (!ports.has(port) && (await isPortFree(port))) ports.add(port);
  }
  const list = [...ports];
  return Object.fromEntries(names.map((name, i) => [name, list[i]!])) as Record<(typeof names)[number], number>;
}

/** PostgreSQL's binaries: the newest Debian cluster version installed. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed: apt-get install postgresql (scripts/setup does)');
  return path.join(root, newest, 'bin');
}

/**
 * Creates the cluster once (superuser `temporal`, password auth), runs the server under the
 * supervisor, waits for it, and makes the ADO store's role and database.
 */
async function startPostgres(supervisor: Supervisor, dir: string, port: number, secrets: Secrets, log: (line: string) => void) {
  const bin = postgresBin();
  const base = path.join(dir, 'postgres');
  const data = path.join(base, 'data');
  const socketDir = path.join(base, 'run');
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  await mkdir(socketDir, { recursive: true });
  const temporalPasswordFile = path.join(dir, 'secrets', 'temporal_db_password');
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    log(`PostgreSQL cluster in ${data} (initdb)…`);
    const pwfile = path.join(base, 'initdb-password');
    await writeFile(pwfile, `${secrets.temporalDb}\n`, { mode: 0o600 });
    if (user) await chownTree([base, pwfile], user);
    const initdb = [path.join(bin, 'initdb'), '-D', data, '-U', 'temporal', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'];
    await (user ? run('setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', ...initdb]) : run(initdb[0]!, initdb.slice(1)));
    await writeFile(pwfile, '');
  }
  if (user) await chownTree([base], user);
  await supervisor.add({
    name: 'postgres',
    command: path.join(bin, 'postgres'),
    args: ['-D', data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'],
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
    // SIGTERM would wait for every client (Temporal never leaves) to disconnect.
    stopSignal: 'SIGINT',
    ...(user ? { user } : {}),
  });
  const admin = async () => {
    const client = new Client({ host: '127.0.0.1', port, user: 'temporal', password: secrets.temporalDb, database: 'postgres' });
    await client.connect();
    return client;
  };
  const client = await retry(admin, 'PostgreSQL', 60);
  try {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', ['ado']);
    if (role.rowCount === 0) await client.query(`CREATE ROLE ado LOGIN PASSWORD '${secrets.adoDb}'`);
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', ['ado']);
    if (db.rowCount === 0) await client.query('CREATE DATABASE ado OWNER ado');
  } finally {
    await client.end();
  }
  return { temporalPasswordFile };
}

async function chownTree(paths: string[], user: string): Promise<void> {
  for (const p of paths) await run('chown', ['-R', `${user}:${user}`, p]);
}

async function linkTool(target: string, link: string): Promise<void> {
  await run('ln', ['-sfn', target, link]);
}

/** Runs one of the compose file's setup scripts (deploy/temporal/) with `env`. */
async function runScript(name: string, env: Record<string, string>): Promise<void> {
  try {
    await run('sh', [path.join(REPO_ROOT, 'deploy', 'temporal', name)], { env, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`deploy/temporal/${name} failed (the end of its output):\n${output}`, { cause: err });
  }
}

/** The UI server's configuration file (it reads `<cwd>/config/<env>.yaml`). */
async function uiConfigDir(dir: string, temporalAddress: string, port: number, namespace: string): Promise<string> {
  const folder = path.join(dir, 'ui');
  await mkdir(path.join(folder, 'config'), { recursive: true });
  await writeFile(
    path.join(folder, 'config', 'topology.yaml'),
    [`temporalGrpcAddress: ${temporalAddress}`, `host: 127.0.0.1`, `port: ${port}`, `enableUi: true`, `defaultNamespace: ${namespace}`, `cors:`, `  allowOrigins: []`, ''].join('\n'),
  );
  return folder;
}

async function waitForHttp(url: string, what: string): Promise<void> {
  await retry(
    async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    },
    what,
    120,
  );
}

async function retry<T>(fn: () => Promise<T>, what: string, seconds: number): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} did not come up within ${seconds} s: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
