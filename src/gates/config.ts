/**
 * The repository's own config: which commands set it up, run it, and gate it (`typecheck`,
 * `lint`, `test`, `build`). Read from `.ado.yml` or `ado.config.json` when the repository has
 * one (what it names is all that runs), otherwise inferred from its manifest.
 *
 * Callers read it from the task's base commit (`RepoFiles` over git objects), never from the
 * commit under test: the model writes that one, and must not write the rules that judge it.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FailureType, nonRetryable } from '../domain/errors';
import type { SandboxLimits } from '../sandbox/types';

/** Reads a file at the repository root: its text, or `null` when there is no such file. */
export type RepoFiles = (name: string) => Promise<string | null>;

export const GATE_NAMES = ['typecheck', 'lint', 'test', 'build'] as const;
export type GateName = (typeof GATE_NAMES)[number];

export interface CommandSpec {
  /** Shell command line, run in the workspace root. */
  command: string;
  /** Wall-time limit of this command; default: the config's `limits.timeout`, then the sandbox's. */
  timeoutMs?: number;
  /** Network access in the sandbox; only `setup` can have it. */
  network: boolean;
}

export type RepoConfigSource = '.ado.yml' | 'ado.config.json' | 'package.json' | 'Makefile' | 'none';

export interface RepoConfig {
  /** Where the commands came from. */
  source: RepoConfigSource;
  setup?: CommandSpec;
  execute?: CommandSpec;
  gates: Partial<Record<GateName, CommandSpec>>;
  /** Sandbox limits the repository asks for, on top of the defaults (the operator's ceilings bound them). */
  limits: Partial<SandboxLimits>;
  /**
   * The `scripts` of the repository's package.json (empty without one): every run gets these
   * instead of whatever the commit under test has, since `npm test` and `npm ci` run them.
   */
  packageScripts: Record<string, string>;
}

/**
 * The resolved config of the repository whose files `read` gives. An invalid config file throws
 * a non-retryable `AdoError` (`InvalidConfig`) naming the file and the field.
 */
export async function loadRepoConfig(read: RepoFiles): Promise<RepoConfig> {
  const [yml, json, pkg] = await Promise.all([read('.ado.yml'), read('ado.config.json'), read('package.json')]);
  const config = await commandsAndLimits(read, yml, json, pkg);
  return { ...config, packageScripts: pkg === null ? {} : readableScripts(pkg) };
}

/** The scripts of package.json `text`; none when npm could not read it either (an error only where it is the config). */
function readableScripts(text: string): Record<string, string> {
  try {
    return scriptsOf(parsePackageJson(text));
  } catch {
    return {};
  }
}

async function commandsAndLimits(read: RepoFiles, yml: string | null, json: string | null, pkg: string | null): Promise<Omit<RepoConfig, 'packageScripts'>> {
  if (yml !== null && json !== null) {
    throw nonRetryable(FailureType.InvalidConfig, 'Both .ado.yml and ado.config.json exist; keep one of them');
  }
  if (yml !== null) return fromConfigFile('.ado.yml', parseText('.ado.yml', yml, (text) => parseYaml(text) as unknown));
  if (json !== null) return fromConfigFile('ado.config.json', parseText('ado.config.json', json, (text) => JSON.parse(text) as unknown));

  if (pkg !== null) return fromPackageJson(read, parsePackageJson(pkg));
  const makefile = await read('Makefile');
  if (makefile !== null) return fromMakefile(makefile);
  return { source: 'none', gates: {}, limits: {} };
}

// ---------------------------------------------------------------- config file

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5m", "90s", "1h30m", "500ms", or a number of seconds → milliseconds. */
function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 0 ? value * 1000 : undefined;
  if (typeof value !== 'string' || !DURATION.test(value.trim())) return undefined;
  let ms = 0;
  for (const [, amount, unit] of value.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(amount) * DURATION_UNITS_MS[unit!]!;
  return ms > 0 ? ms : undefined;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b)?$/i;
const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "512m", "2g", "1GiB", "64kb" (binary units), or a number of bytes → bytes. */
function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 0 ? Math.floor(value) : undefined;
  const match = typeof value === 'string' ? SIZE.exec(value.trim()) : null;
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (match[2] ? SIZE_UNITS[match[2].toLowerCase()]! : 1));
  return bytes > 0 ? bytes : undefined;
}

function unit(parser: (value: unknown) => number | undefined, expected: string) {
  return z.unknown().transform((value, ctx) => {
    const parsed = parser(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return parsed;
  });
}

const duration = unit(parseDuration, 'expected a duration like "5m", "90s" or a number of seconds');
const size = unit(parseSize, 'expected a size like "512m", "2g" or a number of bytes');

/** A command: a string, or `{ command, timeout, network }` (network for setup only). */
function commandSchema(networkAllowed: boolean) {
  const object = z.strictObject(
    {
      command: z.string({ error: 'expected a command string' }).trim().min(1, { error: 'must not be empty' }),
      timeout: duration.optional(),
      network: networkAllowed
        ? z.boolean({ error: 'expected true or false' }).optional()
        : z.literal(false, { error: 'network access is allowed for setup only' }).optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected a command string or { command, timeout }' : undefined) },
  );
  return z
    .preprocess((value) => (typeof value === 'string' ? { command: value } : value), object)
    .transform(({ command, timeout, network }): CommandSpec => ({ command, timeoutMs: timeout, network: network ?? false }));
}

const section = { error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'expected a mapping of names to values' : undefined) };

const configFileSchema = z.strictObject(
  {
    setup: commandSchema(true).optional(),
    execute: commandSchema(false).optional(),
    gates: z
      .strictObject(
        {
          typecheck: commandSchema(false).optional(),
          lint: commandSchema(false).optional(),
          test: commandSchema(false).optional(),
          build: commandSchema(false).optional(),
        } satisfies Record<GateName, unknown>,
        section,
      )
      .optional(),
    limits: z
      .strictObject(
        {
          timeout: duration.optional(),
          cpu: duration.optional(),
          memory: size.optional(),
          processes: z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' }).positive().optional(),
          output: size.optional(),
          disk: size.optional(),
        },
        section,
      )
      .optional(),
  },
  section,
);

function fromConfigFile(file: '.ado.yml' | 'ado.config.json', raw: unknown): Omit<RepoConfig, 'packageScripts'> {
  // An empty YAML file is an empty config: nothing to set up, run or gate.
  const parsed = configFileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw nonRetryable(FailureType.InvalidConfig, parsed.error.issues.map((issue) => describeIssue(file, issue)).join('\n'));
  const { setup, execute, gates = {}, limits = {} } = parsed.data;
  const resolvedLimits: Partial<SandboxLimits> = {};
  if (limits.timeout !== undefined) resolvedLimits.wallTimeMs = limits.timeout;
  if (limits.cpu !== undefined) resolvedLimits.cpuTimeSec = Math.ceil(limits.cpu / 1000);
  if (limits.memory !== undefined) resolvedLimits.memoryBytes = limits.memory;
  if (limits.processes !== undefined) resolvedLimits.maxProcesses = limits.processes;
  if (limits.output !== undefined) resolvedLimits.maxOutputBytes = limits.output;
  if (limits.disk !== undefined) resolvedLimits.diskBytes = limits.disk;
  return { source: file, setup, execute, gates: definedOnly(gates), limits: resolvedLimits };
}

/** `.ado.yml: gates.test.timeout: expected a duration like "5m"…` */
function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${file}: ${[...at, key].join('.')}: unknown field`).join('\n');
  }
  return `${file}: ${at.length > 0 ? at.join('.') : '(top level)'}: ${issue.message}`;
}

// ---------------------------------------------------------------- inference from manifests

const NPM_DEFAULT_TEST = /no test specified/;
const TYPECHECK_SCRIPTS = ['typecheck', 'type-check', 'tsc'];

const packageJsonSchema = z.looseObject({
  scripts: z.record(z.string(), z.unknown()).optional(),
  dependencies: z.record(z.string(), z.unknown()).optional(),
  devDependencies: z.record(z.string(), z.unknown()).optional(),
  optionalDependencies: z.record(z.string(), z.unknown()).optional(),
});

type PackageJson = z.infer<typeof packageJsonSchema>;

function parsePackageJson(text: string): PackageJson {
  const parsed = packageJsonSchema.safeParse(parseText('package.json', text, (json) => JSON.parse(json) as unknown));
  if (!parsed.success) throw nonRetryable(FailureType.InvalidConfig, parsed.error.issues.map((issue) => describeIssue('package.json', issue)).join('\n'));
  return parsed.data;
}

/** The scripts npm would run: those with a command. */
function scriptsOf(pkg: PackageJson): Record<string, string> {
  return Object.fromEntries(Object.entries(pkg.scripts ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== ''));
}

async function fromPackageJson(read: RepoFiles, pkg: PackageJson): Promise<Omit<RepoConfig, 'packageScripts'>> {
  const scripts = scriptsOf(pkg);
  const run = (script: string | undefined): CommandSpec | undefined => (script === undefined ? undefined : { command: `npm run ${script}`, network: false });

  const gates: RepoConfig['gates'] = definedOnly({
    typecheck: run(TYPECHECK_SCRIPTS.find((name) => name in scripts)),
    lint: run('lint' in scripts ? 'lint' : undefined),
    test: scripts.test !== undefined && !NPM_DEFAULT_TEST.test(scripts.test) ? { command: 'npm test', network: false } : undefined,
    build: run('build' in scripts ? 'build' : undefined),
  });
  const hasDependencies = [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((deps) => Object.keys(deps ?? {}).length > 0);
  const hasLockfile = (await read('package-lock.json')) !== null || (await read('npm-shrinkwrap.json')) !== null;
  const setup: CommandSpec | undefined = hasDependencies ? { command: hasLockfile ? 'npm ci' : 'npm install', network: true } : undefined;
  return { source: 'package.json', setup, gates, limits: {} };
}

function fromMakefile(text: string): Omit<RepoConfig, 'packageScripts'> {
  const targets = new Set([...text.matchAll(/^([A-Za-z][\w-]*)\s*:(?!=)/gm)].map((m) => m[1]!));
  const gates = definedOnly(Object.fromEntries(GATE_NAMES.map((name) => [name, targets.has(name) ? { command: `make ${name}`, network: false } : undefined])));
  return { source: 'Makefile', gates, limits: {} };
}

// ---------------------------------------------------------------- helpers

function parseText(file: string, text: string, parse: (text: string) => unknown): unknown {
  try {
    return parse(text);
  } catch (err) {
    throw nonRetryable(FailureType.InvalidConfig, `${file}: not valid ${file.endsWith('.yml') ? 'YAML' : 'JSON'}: ${(err as Error).message}`, { cause: err });
  }
}

function definedOnly<T>(record: Record<string, T | undefined>): Partial<Record<GateName, T>> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
