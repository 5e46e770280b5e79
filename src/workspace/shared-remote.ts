/**
 * The shared remote that carries code between activities may be a folder on this machine (the
 * embedded stack) or a git URL (a git server that workers reach over HTTP: no shared disk). Code
 * that must read or move refs works on a *view*: the folder itself, or a bare cache of this
 * process fetched from the URL. Ref moves go back to the remote as compare-and-swap: an
 * `update-ref` with the old value, or a push with `--force-with-lease`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { firstLines, git, GitCommandError, gitOrNull, isLocalRemote, useGitHttpCredentials, type GitHttpCredential } from './git';

export interface SharedRemoteSettings {
  /** Where this process keeps its bare caches of URL remotes. */
  cacheRoot: string;
  /** Headers git sends to the shared remotes' URLs. */
  credentials: readonly GitHttpCredential[];
}

let settings: SharedRemoteSettings = { cacheRoot: path.join(os.tmpdir(), 'ado-git-cache'), credentials: [] };

/**
 * Sets this process's cache folder and the credentials of the shared remotes (from the deployment
 * configuration); called once by whatever wires a worker or the API.
 */
export function configureSharedRemotes(next: SharedRemoteSettings): void {
  settings = next;
  useGitHttpCredentials(next.credentials);
}

/** The header value for a configured credential: `user:password` is basic, anything else a bearer token. */
export function authorizationHeader(credential: string): string {
  return credential.includes(':') ? `Authorization: Basic ${Buffer.from(credential).toString('base64')}` : `Authorization: Bearer ${credential}`;
}

/** Creates the bare repository `dir` when missing; safe when two callers race. */
export async function ensureBare(dir: string, initialBranch = 'main'): Promise<void> {
  if (existsSync(path.join(dir, 'HEAD'))) return;
  await mkdir(path.dirname(dir), { recursive: true });
  await git(['init', '--quiet', '--bare', `--initial-branch=${initialBranch}`, dir]);
}

/**
 * A local bare repository holding every branch of `remote` as it is now: `remote` itself when it
 * is a folder, else this process's cache of it, fetched (branches pruned) before returning.
 */
export async function localView(remote: string): Promise<string> {
  if (isLocalRemote(remote)) return remote;
  const key = remote.replace(/\/+$/, '');
  const name = (key.split('/').pop() ?? 'remote').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.git$/, '');
  const view = path.join(settings.cacheRoot, `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}.git`);
  await ensureBare(view);
  try {
    await git(['fetch', '--quiet', '--prune', '--no-tags', remote, '+refs/heads/*:refs/heads/*'], { cwd: view });
  } catch (err) {
    throw remoteFailure(`Could not fetch from the shared remote ${remote}`, err);
  }
  return view;
}

/**
 * Points `ref` of `remote` at `sha` if it still holds `expected` (`null`: must not exist). `view`
 * (from `localView`) must hold `sha`. Throws a retryable `RepositoryError` when the ref moved.
 */
export async function setRemoteRef(remote: string, view: string, ref: string, sha: string, expected: string | null): Promise<void> {
  try {
    if (isLocalRemote(remote)) {
      await git(['update-ref', ref, sha, expected ?? ''], { cwd: remote });
      return;
    }
    await git(['push', '--quiet', `--force-with-lease=${ref}:${expected ?? ''}`, remote, `${sha}:${ref}`], { cwd: view });
    await gitOrNull(['update-ref', ref, sha], { cwd: view });
  } catch (err) {
    throw remoteFailure(`Could not move ${ref} of the shared remote ${remote} to ${sha}`, err);
  }
}

/** Refused credentials are final (the configuration must change); the rest may pass with a retry. */
export function remoteFailure(what: string, err: unknown): AdoError {
  const why = err instanceof GitCommandError ? firstLines(err.stderr, 3) : String(err);
  if (/\b40[13]\b|authentication failed|could not read (username|password)/i.test(why)) {
    return nonRetryable(FailureType.InvalidConfig, `${what}: the git server refused the credentials (${why}). Set ADO_GIT_REMOTES_CREDENTIALS to the token it expects`, { cause: err });
  }
  if (isTransportFailure(why)) return serverAway(`${what}: ${why}`, err);
  return new AdoError(FailureType.RepositoryError, `${what}: ${why}`, { cause: err });
}

/**
 * How long an activity waits before its next attempt when a git server is away: the retry
 * policy's three attempts then span a minute, what a restart or a short outage takes.
 */
export const SERVER_AWAY_RETRY_DELAY_MS = 30_000;

/** A retryable `RepositoryError` for a git server that is away, with the longer wait. */
export function serverAway(message: string, cause: unknown): AdoError {
  return new AdoError(FailureType.RepositoryError, message, { cause, nextRetryDelayMs: SERVER_AWAY_RETRY_DELAY_MS });
}

/**
 * Whether git's `stderr` says the server could not be reached or failed (refused connection,
 * timeout, 5xx): a retry may succeed, unlike a refusal or a missing repository or commit.
 */
export function isTransportFailure(stderr: string): boolean {
  // git's "unable to access '<url>': <curl's reason>" is the transport's, unless the server answered 4xx.
  if (/unable to access/i.test(stderr) && !/returned error: 4\d\d/i.test(stderr)) return true;
  return /Failed to connect|Connection refused|Could not resolve host|Connection timed out|Operation timed out|Empty reply from server|Recv failure|RPC failed|returned error: 5\d\d|remote end hung up|early EOF|transfer closed/i.test(stderr);
}
