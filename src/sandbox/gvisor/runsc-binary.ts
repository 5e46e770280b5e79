/**
 * Finds gVisor's `runsc` without download sites, as the Temporal CLI is found (temporal/binaries.ts):
 * a configured path (ADO_RUNSC_PATH), `runsc` on PATH, ADO's cache, and otherwise a build from the
 * Go module proxy into that cache (`go install` of a pinned version: one static binary, about a
 * minute), saying what it does. gVisor publishes no tagged module versions; the pin is a commit of
 * its `go` branch, the one Go builds from.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import which from 'which';
import { installOnce } from '../../config/install-once';
import { AdoError, FailureType, nonRetryable } from '../../domain/errors';
import { findOnPath, isExecutable, userCacheDir } from '../../temporal/binaries';

const run = promisify(execFile);

/** The pinned build: module, version and the Go toolchain it needs (fetched by `go` itself). */
export const RUNSC_BUILD = {
  goPackage: 'gvisor.dev/gvisor/runsc',
  version: 'v0.0.0-20260905035102-160fafc42237',
  goToolchain: 'go1.27.3',
} as const;

export interface LocateRunscOptions {
  /** ADO_RUNSC_PATH: must be an executable when given. */
  configuredPath?: string;
  /** Where PATH, the cache folder and Go's own settings come from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default userCacheDir(env) */
  cacheDir?: string;
  /** Build from the Go module proxy when nothing provides runsc. @default true */
  install?: boolean;
  /** Progress lines for people ("building runsc … one time"). */
  log?: (line: string) => void;
}

/** The cache folder of the pinned build (its binary is `bin/runsc` inside). */
export function runscCacheFolder(cacheDir: string): string {
  return path.join(cacheDir, `runsc-${RUNSC_BUILD.version}`);
}

/**
 * Whether the gVisor backend can run here without building anything: ADO runs as root and runsc
 * is on PATH or in ADO's cache. (Tests and the benchmark ask, to include gVisor or leave it out.)
 */
export function gvisorReadyHere(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.getuid?.() !== 0) return false;
  return which.sync('runsc', { nothrow: true, path: env.PATH }) !== null || existsSync(path.join(runscCacheFolder(userCacheDir(env)), 'bin', 'runsc'));
}

/**
 * The path of `runsc`, building it into the cache when asked and nothing provides it. Throws a
 * non-retryable `InvalidConfig` error saying what to do when it is not there or cannot be built.
 */
export async function locateRunsc(options: LocateRunscOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (options.configuredPath !== undefined) {
    if (await isExecutable(options.configuredPath)) return options.configuredPath;
    throw nonRetryable(FailureType.InvalidConfig, `ADO_RUNSC_PATH=${options.configuredPath} is not an executable file; fix the path or unset it to let ADO find or build runsc.`);
  }
  const onPath = await findOnPath('runsc', env);
  if (onPath !== undefined) return onPath;
  const target = runscCacheFolder(options.cacheDir ?? userCacheDir(env));
  const cached = path.join(target, 'bin', 'runsc');
  if (await isExecutable(cached)) return cached;
  if (options.install === false) {
    throw nonRetryable(FailureType.InvalidConfig, `runsc (gVisor) was not found on PATH nor in ${target}: run scripts/setup --sandbox gvisor, or set ADO_RUNSC_PATH.`);
  }
  if ((await findOnPath('go', env)) === undefined) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      'runsc (gVisor) was not found and Go is not installed to build it: install Go (apt-get install golang-go), put runsc on PATH, or set ADO_RUNSC_PATH.',
    );
  }
  try {
    await installOnce({ target, isInstalled: () => isExecutable(cached), install: (staging) => build(staging, target, env, log) });
  } catch (error) {
    if (error instanceof AdoError) throw error;
    const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join(' | ') || (error as Error).message;
    throw nonRetryable(FailureType.InvalidConfig, `Could not build runsc ${RUNSC_BUILD.version} from the Go module proxy: ${detail}. Put runsc on PATH or set ADO_RUNSC_PATH instead.`, {
      cause: error,
    });
  }
  log(`Built runsc at ${cached}`);
  return cached;
}

/** `go install` of the pinned runsc into `staging/bin` (static: no C toolchain needed). */
async function build(staging: string, target: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const module = `${RUNSC_BUILD.goPackage}@${RUNSC_BUILD.version}`;
  log(`Building runsc (gVisor) with go install ${module} into ${target} (one time, about a minute)…`);
  await run('go', ['install', module], {
    env: { ...env, GOTOOLCHAIN: RUNSC_BUILD.goToolchain, CGO_ENABLED: '0', GOBIN: path.join(staging, 'bin') },
    maxBuffer: 16 * 1024 * 1024,
  });
}
