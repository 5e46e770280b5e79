/**
 * The real Temporal server (not the dev server) for the production-like topology: built from the
 * Go module proxy with pinned versions into ADO's cache, once, beside the schema files its `sql`
 * tool applies. The Web UI server is built the same way when it can be; it is optional.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from '../config/install-once';
import { FailureType, nonRetryable } from '../domain/errors';
import { userCacheDir } from './binaries';

const run = promisify(execFile);

/** Pinned: the server, its `sql` tool and the schemas come from this module version. */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** Pinned Web UI server module version (the compose file's temporalio/ui image tag). */
export const TEMPORAL_UI_VERSION = '2.54.1';
/** The Go toolchain the server module needs (newer than many machines'): Go downloads it itself. */
export const GO_TOOLCHAIN = 'go1.27.3';

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export interface TemporalServerBinaries {
  server: string;
  sql: string;
  /** `schema/postgresql/v12` of the module: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemas: string;
}

export interface BuildOptions {
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
  /** Progress lines ("building … with go install"). */
  log?: (line: string) => void;
}

/** Where the server build lives (whether or not it is there yet). */
export function temporalServerDir(options: BuildOptions = {}): string {
  return path.join(options.cacheDir ?? userCacheDir(options.env), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

function serverLayout(dir: string): TemporalServerBinaries {
  return { server: path.join(dir, 'bin', 'server'), sql: path.join(dir, 'bin', 'sql'), postgresSchemas: path.join(dir, 'schema', 'postgresql', 'v12') };
}

/** The server binaries from the cache, building them first (several minutes, once) when missing. */
export async function locateTemporalServer(options: BuildOptions = {}): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const target = temporalServerDir(options);
  const layout = serverLayout(target);
  const complete = async () => (await isExecutable(layout.server)) && (await isExecutable(layout.sql)) && (await exists(path.join(layout.postgresSchemas, 'temporal', 'versioned')));
  if (await complete()) return layout;
  await installOnce({
    target,
    isInstalled: complete,
    install: async (staging) => {
      const packages = [`${SERVER_MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${SERVER_MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`];
      log(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} (GOTOOLCHAIN=${GO_TOOLCHAIN} go install ${packages.join(' ')}) into ${target}; several minutes, once…`);
      await goInstall(packages, path.join(staging, 'bin'), env);
      const moduleDir = await moduleSource(`${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`, env);
      const schemas = serverLayout(staging).postgresSchemas;
      log(`Copying the PostgreSQL schemas from ${moduleDir}/schema/postgresql/v12`);
      await fs.mkdir(path.dirname(schemas), { recursive: true });
      await fs.cp(path.join(moduleDir, 'schema', 'postgresql', 'v12'), schemas, { recursive: true });
      await fs.chmod(schemas, 0o755);
    },
  });
  log(`Temporal server ${TEMPORAL_SERVER_VERSION} ready in ${target}`);
  return layout;
}

/**
 * The Web UI server binary, building it once; `undefined` (after saying why) when it does not
 * build here: the topology runs without a UI then.
 */
export async function locateTemporalUiServer(options: BuildOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const target = path.join(options.cacheDir ?? userCacheDir(env), `temporal-ui-server-${TEMPORAL_UI_VERSION}`);
  const binary = path.join(target, 'bin', 'server');
  if (await isExecutable(binary)) return binary;
  try {
    await installOnce({
      target,
      isInstalled: () => isExecutable(binary),
      install: async (staging) => {
        const pkg = `${UI_MODULE}/cmd/server@v${TEMPORAL_UI_VERSION}`;
        log(`Building the Temporal Web UI server (go install ${pkg}) into ${target}, once…`);
        await goInstall([pkg], path.join(staging, 'bin'), env);
      },
    });
    return binary;
  } catch (err) {
    log(`The Temporal Web UI server did not build (${firstLine(err)}); going on without it`);
    return undefined;
  }
}

async function goInstall(packages: string[], bin: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('go', ['install', ...packages], { env: { ...env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: bin, GOFLAGS: '-mod=mod' }, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw nonRetryable(FailureType.InvalidConfig, `go install ${packages.join(' ')} failed: ${firstLine(err)}. Install Go (https://go.dev/dl) and make the Go module proxy reachable`, { cause: err });
  }
}

/** The module's source folder in the Go module cache (downloading it if needed). */
async function moduleSource(module: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', module], { env: { ...env, GOTOOLCHAIN: GO_TOOLCHAIN }, maxBuffer: 16 * 1024 * 1024 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw nonRetryable(FailureType.InvalidConfig, `go mod download ${module} did not say where the module is`);
  return dir;
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n').slice(-3).join(' ');
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function isExecutable(file: string): Promise<boolean> {
  return fs.access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
