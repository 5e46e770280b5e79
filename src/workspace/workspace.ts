/**
 * A working copy of one commit of the shared remote, in a fresh folder of its own: what an
 * activity edits, runs and commits. Rebuilt from (remote, sha) by every activity, so no worker
 * depends on another's disk.
 */
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RepoRef } from '../domain/repo-ref';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { silentLogger, type Logger } from '../telemetry/logger';
import { ADO_IDENTITY, git, GitCommandError, gitOrNull, identityEnv, isLocalRemote, requireBranchName, type GitIdentity } from './git';
import { resolveInside } from './paths';

export interface CommitAndPushOptions {
  /** Branch of the shared remote to push to (the task branch). */
  branch: string;
  message: string;
  /** Commit author; default ADO. The committer is always ADO. */
  author?: GitIdentity;
}

export interface CheckoutOptions {
  logger?: Logger;
}

export class Workspace {
  private disposed = false;

  private constructor(
    /** Where the workspace came from. */
    readonly ref: RepoRef,
    /** The working tree: the folder commands run in. */
    readonly dir: string,
    private head: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Materialises `ref.sha` of `ref.remote` in a new folder under `scratchRoot`. A local remote is
   * borrowed through git alternates (no object is copied, so it is fast whatever the repository's
   * size); a URL remote is fetched.
   */
  static async checkout(ref: RepoRef, scratchRoot: string, options: CheckoutOptions = {}): Promise<Workspace> {
    await mkdir(scratchRoot, { recursive: true });
    const dir = await mkdtemp(path.join(scratchRoot, 'ws-'));
    try {
      await git(['init', '--quiet', dir]);
      if (isLocalRemote(ref.remote)) {
        const objects = await realpath(path.join(ref.remote, 'objects')).catch((err: unknown) => {
          throw nonRetryable(FailureType.RepositoryError, `Shared remote ${ref.remote} is not a git repository`, { cause: err });
        });
        await writeFile(path.join(dir, '.git', 'objects', 'info', 'alternates'), `${objects}\n`);
      }
      await ensureCommit(dir, ref.remote, ref.sha);
      await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', ref.sha], { cwd: dir });
      const head = await git(['rev-parse', 'HEAD'], { cwd: dir });
      return new Workspace(ref, dir, head, options.logger ?? silentLogger());
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The commit the working tree is based on: the checked-out sha, then each commit made here. */
  get sha(): string {
    return this.head;
  }

  /** Paths of the files git tracks, relative to the root. */
  async listFiles(): Promise<string[]> {
    const out = await git(['ls-files', '-z'], { cwd: this.dir });
    return out.split('\0').filter((p) => p !== '');
  }

  /** A file's text. Throws a non-retryable `InvalidInput` error for a missing or unsafe path. */
  async readFile(relPath: string): Promise<string> {
    try {
      return await readFile(await resolveInside(this.dir, relPath), 'utf8');
    } catch (err) {
      const why = err instanceof AdoError ? err.message : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
      throw nonRetryable(FailureType.InvalidInput, `Cannot read ${relPath}: ${why}`, { cause: err });
    }
  }

  /**
   * Commits the whole working tree on top of `sha` and pushes it to `branch` of the remote.
   * Nothing changed: returns `sha` as it is. The branch already holds a commit with the same tree
   * on the same parent (this activity ran before): returns that commit instead of a duplicate.
   * Otherwise the branch is set to the new commit, replacing what a superseded attempt pushed.
   */
  async commitAndPush(options: CommitAndPushOptions): Promise<string> {
    await requireBranchName(options.branch);
    await git(['add', '--all'], { cwd: this.dir });
    const tree = await git(['write-tree'], { cwd: this.dir });
    if (tree === (await git(['rev-parse', `${this.head}^{tree}`], { cwd: this.dir }))) return this.head;

    const ref = `refs/heads/${options.branch}`;
    const tip = await this.remoteTip(ref);
    if (tip !== null && (await this.isSameChange(tip, tree))) {
      this.logger.info({ branch: options.branch, sha: tip }, 'Change already pushed by an earlier attempt; reusing its commit');
      return this.moveHead(tip);
    }
    const commit = await git(['commit-tree', tree, '-p', this.head, '-m', options.message], {
      cwd: this.dir,
      env: identityEnv(options.author ?? ADO_IDENTITY),
    });
    if (tip !== null && tip !== this.head) {
      this.logger.info({ branch: options.branch, replaced: tip, parent: this.head }, 'Replacing a branch head the workflow never recorded');
    }
    try {
      await git(['push', '--quiet', `--force-with-lease=${ref}:${tip ?? ''}`, this.ref.remote, `${commit}:${ref}`], { cwd: this.dir });
    } catch (err) {
      // Someone moved the branch since we looked; a retry looks again.
      throw new AdoError(FailureType.RepositoryError, `Could not push to ${options.branch}: ${(err as Error).message}`, { cause: err });
    }
    return this.moveHead(commit);
  }

  /** Removes the folder; safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    await rm(this.dir, { recursive: true, force: true });
    this.disposed = true;
  }

  private async remoteTip(ref: string): Promise<string | null> {
    const line = await git(['ls-remote', this.ref.remote, ref], { cwd: this.dir });
    return line.split('\t')[0] || null;
  }

  /** Whether commit `tip` is our change: same tree, on top of our head. */
  private async isSameChange(tip: string, tree: string): Promise<boolean> {
    await ensureCommit(this.dir, this.ref.remote, tip);
    const [tipTree, tipParents] = await Promise.all([
      git(['rev-parse', `${tip}^{tree}`], { cwd: this.dir }),
      git(['rev-list', '--parents', '-n', '1', tip], { cwd: this.dir }),
    ]);
    return tipTree === tree && tipParents === `${tip} ${this.head}`;
  }

  private async moveHead(sha: string): Promise<string> {
    await git(['update-ref', 'HEAD', sha], { cwd: this.dir });
    this.head = sha;
    return sha;
  }
}

/** Makes sure commit `sha` is in the repository at `dir`, fetching it from `remote` if needed. */
async function ensureCommit(dir: string, remote: string, sha: string): Promise<void> {
  if ((await gitOrNull(['cat-file', '-e', `${sha}^{commit}`], { cwd: dir })) !== null) return;
  try {
    await git(['fetch', '--quiet', '--no-tags', remote, sha], { cwd: dir });
  } catch (err) {
    const why = err instanceof GitCommandError ? err.stderr.trim() : String(err);
    throw nonRetryable(FailureType.RepositoryError, `Commit ${sha} is not in the shared remote ${remote} (${why})`, { cause: err });
  }
}
