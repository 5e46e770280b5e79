/**
 * Runs the real `git` binary. One place for what every ADO git call needs: no prompts (a worker
 * has no terminal), stable messages to parse, and a fixed identity so commits work on machines
 * with no git config at all.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/**
 * The full argument list and environment of a git call: for code that must spawn git itself
 * (e.g. to stream or bound its output) and still run it the way `git` does.
 */
export function gitInvocation(args: readonly string[], options: GitOptions = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // A worker has no terminal: fail instead of waiting for a password forever.
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // Messages we match on (e.g. "couldn't find remote ref") are the English ones.
    LC_ALL: 'C',
    ...options.env,
  };
  // User hooks (a global core.hooksPath) have no business running in ADO's repositories.
  const fullArgs = ['-c', 'core.hooksPath=/dev/null', ...(options.cwd === undefined ? [] : ['-C', options.cwd]), ...args];
  return { args: fullArgs, env };
}

/** Runs git and returns its stdout without the final newline. */
export function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const { args: fullArgs, env } = gitInvocation(args, options);
  return new Promise((resolve, reject) => {
    execFile('git', fullArgs, { env, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitCommandError(args, code, stderr || error.message, stdout, { cause: error }));
        return;
      }
      resolve(stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout);
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
