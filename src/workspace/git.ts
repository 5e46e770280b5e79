/**
 * Runs the real `git` binary: the one place every ADO git call goes through. It gives each call
 * what a worker needs (no prompts, stable messages to parse, a fixed identity so commits work on
 * machines with no git config), and keeps git from running programs a repository could name:
 * ADO runs git on the host, as the worker's user, on repositories whose content (and, were an
 * edit or a sandboxed command to reach it, whose `.git/config`) nobody reviewed. Two layers:
 *
 * - settings on every call (`HARDENED_CONFIG`): no hooks, no fsmonitor, only the transports ADO
 *   uses (never `ext::`), no submodule recursion, no signing;
 * - commands a repository's own configuration names (`local` and `worktree` scope, includes
 *   followed) are emptied for the call: filter, diff and merge drivers that `.gitattributes` can
 *   select, credential helpers, askpass, ssh and proxy commands, pagers and editors. The listing
 *   is read again whenever the config files changed (`overridesByGitDir`).
 *
 * The operator's own configuration (system, global, `GIT_CONFIG_*`, `GIT_SSH_COMMAND`) is trusted
 * and kept: it holds the credentials and proxies for fetching users' repositories.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { FailureType, nonRetryable } from '../domain/errors';

/** Author and committer of every commit ADO makes. */
export const ADO_IDENTITY: GitIdentity = { name: 'ADO', email: 'ado@localhost' };

export interface GitIdentity {
  name: string;
  email: string;
}

export interface GitOptions {
  /** Folder git runs in (`git -C`). */
  cwd?: string;
  /** Extra environment for this call (identity, credentials via GIT_CONFIG_*). */
  env?: Record<string, string>;
  /** Return stdout exactly as git printed it (file contents); by default the final newline is dropped. */
  keepTrailingNewline?: boolean;
}

/** Thrown when git exits with a non-zero code; `stderr` says why. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    options?: { cause?: unknown },
  ) {
    super(`git ${args[0] ?? ''} failed (exit ${exitCode ?? 'signal'}): ${firstLines(stderr)}`, options);
  }
}

const MAX_OUTPUT = 256 * 1024 * 1024;

/** Settings on every call; see the module comment. Command-line `-c` wins over every config file. */
export const HARDENED_CONFIG: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  // Transports by allowlist: local paths and the network ones users' repositories live behind.
  'protocol.allow=never',
  ...['file', 'https', 'http', 'ssh', 'git'].map((scheme) => `protocol.${scheme}.allow=always`),
  'submodule.recurse=false',
  'fetch.recurseSubmodules=false',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
];

/**
 * `git push --receive-pack=…` for pushes to a repository on this machine: git clears `-c`
 * settings for the `receive-pack` it starts in the other repository, so they are given again.
 */
export const HARDENED_RECEIVE_PACK = `--receive-pack=git ${HARDENED_CONFIG.filter((s) => s.startsWith('core.')).map((s) => `-c ${s}`).join(' ')} receive-pack`;

/**
 * Keys whose value git runs as a command (or that name a program), matched on the lower-cased key
 * `git config --list` prints: `filter.<driver>.clean`, `credential.<url>.helper`…
 */
const COMMAND_KEYS = [
  /^filter\..+\.(clean|smudge|process)$/,
  /^diff\..+\.(textconv|command)$/,
  /^merge\..+\.driver$/,
  /^(credential|gpg)(\..+)?\.(helper|program)$/,
  /^remote\..+\.(uploadpack|receivepack)$/,
  /^pager\./,
  /^(diff\.external|core\.(askpass|sshcommand|gitproxy|editor|pager)|sequence\.editor|uploadpack\.packobjectshook)$/,
];

/** Config scopes a repository controls: its `.git/config` (and what that includes) and worktree config. */
const REPOSITORY_SCOPES = new Set(['local', 'worktree']);

/** An HTTP header git sends to every URL under `urlPrefix` (operator configuration). */
export interface GitHttpCredential {
  urlPrefix: string;
  header: string;
}

/**
 * The credentials of the shared HTTP remotes, set once per process by the wiring
 * (`configureSharedRemotes`). Process-wide on purpose: every git call of a worker (workspace
 * checkouts, pushes, imports) may reach the shared remote, and none should need to be told.
 */
let httpCredentials: readonly GitHttpCredential[] = [];

/** Replaces the process's HTTP credentials for git (see `httpCredentials`). */
export function useGitHttpCredentials(credentials: readonly GitHttpCredential[]): void {
  httpCredentials = credentials;
}

/**
 * `GIT_CONFIG_*` variables that give git `entries`, after the ones already in `env`: the
 * environment of a process is private to its user, unlike its arguments or a repository's config.
 */
export function gitConfigEnv(entries: ReadonlyArray<readonly [string, string]>, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const first = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  const vars: Record<string, string> = { GIT_CONFIG_COUNT: String(first + entries.length) };
  entries.forEach(([key, value], i) => {
    vars[`GIT_CONFIG_KEY_${first + i}`] = key;
    vars[`GIT_CONFIG_VALUE_${first + i}`] = value;
  });
  return vars;
}

function baseEnv(options: GitOptions): NodeJS.ProcessEnv {
  // A call that brings its own GIT_CONFIG_* (a GitHub push) talks to another server.
  const credentials = options.env?.GIT_CONFIG_COUNT === undefined && httpCredentials.length > 0
    ? gitConfigEnv(httpCredentials.map((c) => [`http.${c.urlPrefix}.extraHeader`, c.header] as const), process.env)
    : {};
  return {
    ...process.env,
    ...credentials,
    // A worker has no terminal: fail instead of waiting for a password forever.
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // Messages we match on (e.g. "couldn't find remote ref") are the English ones.
    LC_ALL: 'C',
    ...options.env,
  };
}

function locationArgs(options: GitOptions): string[] {
  return options.cwd === undefined ? [] : ['-C', options.cwd];
}

/**
 * `-c key=` for every command the repository's own configuration names (see the module comment),
 * read with `git config --list` (which runs nothing). A filter emptied this way must not be
 * `required` either, or git would refuse to work without it.
 */
async function repositoryCommandOverrides(options: GitOptions, env: NodeJS.ProcessEnv): Promise<string[]> {
  const gitDir = options.env?.GIT_DIR;
  // Stamped before listing: a change made meanwhile shows at the next call.
  const stamp = gitDir === undefined ? undefined : await configStamp(gitDir);
  const known = gitDir === undefined ? undefined : overridesByGitDir.get(gitDir);
  if (known !== undefined && stamp !== undefined && known.stamp === stamp) return known.overrides;
  const listing = await new Promise<string>((resolve, reject) => {
    const args = [...locationArgs(options), 'config', '--list', '--show-scope', '-z'];
    execFile('git', args, { env, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
      // Exit 1 with no output: there is no config at all.
      if (error && !(error.code === 1 && stdout === '')) reject(new GitCommandError(['config', '--list'], typeof error.code === 'number' ? error.code : null, stderr, stdout, { cause: error }));
      else resolve(stdout);
    });
  });
  const overrides = new Set<string>();
  let includes = false;
  const fields = listing.split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const scope = fields[i] ?? '';
    const key = (fields[i + 1] ?? '').split('\n', 1)[0] ?? '';
    if (!REPOSITORY_SCOPES.has(scope)) continue;
    if (/^include(if\..*)?\.path$/i.test(key)) includes = true;
    if (!COMMAND_KEYS.some((pattern) => pattern.test(key.toLowerCase()))) continue;
    overrides.add(`${key}=`);
    const filter = /^filter\.(.+)\.[^.]+$/i.exec(key);
    if (filter) overrides.add(`filter.${filter[1]}.required=false`);
  }
  const args = [...overrides].flatMap((setting) => ['-c', setting]);
  if (gitDir !== undefined && stamp !== undefined && !includes) remember(gitDir, { stamp, overrides: args });
  return args;
}

/**
 * The overrides found for a git directory (a workspace's: calls that name it in GIT_DIR), with the
 * stamp of its config files when they were listed: listing costs a git process per call (half of
 * a workspace's git time), a stamp three `lstat`s. Not kept when the config includes other files,
 * whose changes the stamp would not show, nor when `configStamp` cannot vouch for what git reads.
 */
const overridesByGitDir = new Map<string, { stamp: string; overrides: string[] }>();
const GIT_DIRS_KEPT = 500;

function remember(gitDir: string, entry: { stamp: string; overrides: string[] }): void {
  overridesByGitDir.delete(gitDir);
  overridesByGitDir.set(gitDir, entry);
  if (overridesByGitDir.size > GIT_DIRS_KEPT) overridesByGitDir.delete(overridesByGitDir.keys().next().value!);
}

/**
 * Identity and change times of `gitDir`'s config files (any write moves a ctime, which nobody can
 * set back), or undefined when git may read config the stamp would not follow: a config file that
 * is not a regular file (a symlink git resolves from its own working folder), or a `commondir`
 * (git then reads another directory's config).
 */
async function configStamp(gitDir: string): Promise<string | undefined> {
  const files = ['config', 'config.worktree', 'commondir'].map((name) => path.join(gitDir, name));
  const [config, worktree, commondir] = await Promise.all(files.map((file) => lstat(file, { bigint: true }).catch(() => undefined)));
  if (commondir !== undefined || [config, worktree].some((info) => info !== undefined && !info.isFile())) return undefined;
  return [config, worktree].map((info) => (info === undefined ? '-' : `${info.dev}:${info.ino}:${info.mode}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`)).join('|');
}

/**
 * The full argument list and environment of a git call: for code that must spawn git itself
 * (e.g. to stream or bound its output) and still run it the way `git` does.
 */
export async function gitInvocation(args: readonly string[], options: GitOptions = {}): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
  const env = baseEnv(options);
  const hardened = HARDENED_CONFIG.flatMap((setting) => ['-c', setting]);
  const fullArgs = [...hardened, ...(await repositoryCommandOverrides(options, env)), ...locationArgs(options), ...args];
  return { args: fullArgs, env };
}

/** Runs git and returns its stdout without the final newline. */
export async function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const { args: fullArgs, env } = await gitInvocation(args, options);
  return new Promise((resolve, reject) => {
    execFile('git', fullArgs, { env, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitCommandError(args, code, stderr || error.message, stdout, { cause: error }));
        return;
      }
      resolve(stdout.endsWith('\n') && options.keepTrailingNewline !== true ? stdout.slice(0, -1) : stdout);
    });
  });
}

/** Like `git`, but a non-zero exit gives `null` (for questions such as "does this ref exist?"). */
export async function gitOrNull(args: readonly string[], options: GitOptions = {}): Promise<string | null> {
  try {
    return await git(args, options);
  } catch (err) {
    if (err instanceof GitCommandError) return null;
    throw err;
  }
}

/** The commit `ref` names in the repository at `cwd`, or `null` when there is none. */
export function revParse(cwd: string, ref: string): Promise<string | null> {
  return gitOrNull(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd });
}

/** Whether commit `ancestor` is reachable from `descendant` (equal counts). */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await gitOrNull(['merge-base', '--is-ancestor', ancestor, descendant], { cwd })) !== null;
}

/** Throws a non-retryable `InvalidInput` error unless `branch` is a valid branch name. */
export async function requireBranchName(branch: string): Promise<void> {
  if ((await gitOrNull(['check-ref-format', `refs/heads/${branch}`])) === null) {
    throw nonRetryable(FailureType.InvalidInput, `${JSON.stringify(branch)} is not a valid git branch name`);
  }
}

/** Environment that makes `identity` the author and ADO the committer of new commits. */
export function identityEnv(author: GitIdentity = ADO_IDENTITY): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: ADO_IDENTITY.name,
    GIT_COMMITTER_EMAIL: ADO_IDENTITY.email,
  };
}

/**
 * True for git URLs (`https://…`, `ssh://…`, `file://…`, scp-like `git@host:owner/repo`), false
 * for local paths.
 */
export function isGitUrl(location: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return true;
  // scp-like syntax: a colon before the first slash, as git itself decides.
  const colon = location.indexOf(':');
  const slash = location.indexOf('/');
  return colon > 0 && (slash === -1 || colon < slash) && !existsSync(location);
}

/** Whether `remote` is a bare repository on this machine (the embedded shared remote). */
export function isLocalRemote(remote: string): boolean {
  return !isGitUrl(remote) && path.isAbsolute(remote);
}

/** The first lines of a (possibly long) message, for errors. */
export function firstLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(0, count).join('\n');
}
