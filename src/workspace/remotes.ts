/**
 * The shared git remotes every worker fetches from and pushes to: one bare mirror per user
 * repository under a root, a folder (`<ADO_HOME>/git` in the embedded stack) or the URL of a git
 * server (`ado git-server`: workers share no disk). The code travels between activities as
 * commits in these remotes.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { silentLogger, type Logger } from '../telemetry/logger';
import { firstLines, git, GitCommandError, gitOrNull, isAncestor, isGitUrl, requireBranchName, revParse } from './git';
import { ensureBare, isTransportFailure, localView, serverAway, setRemoteRef } from './shared-remote';

export interface ImportedRepository {
  /** The shared bare remote holding the branch. */
  remote: string;
  /** The branch the task starts from (resolved when the caller gave none). */
  baseBranch: string;
  baseSha: string;
}

export interface GitRemotesOptions {
  /** Folder of the shared bare remotes, or the base URL of a git server holding them. */
  root: string;
  logger?: Logger;
}

/** Where to fetch a user's repository from, and the stable key its mirror is named by. */
interface Source {
  location: string;
  key: string;
  basename: string;
}

/** Namespace in the mirror for the user's branches as last fetched (not published as branches). */
const IMPORT_REFS = 'refs/imports/';

/** Creates and updates the shared bare mirrors of user repositories, and task branches in them. */
export class GitRemotes {
  readonly root: string;
  private readonly logger: Logger;

  constructor(options: GitRemotesOptions) {
    const url = /^https?:\/\//.test(options.root);
    if (!url && (!path.isAbsolute(options.root) || isGitUrl(options.root))) {
      throw nonRetryable(FailureType.InvalidConfig, `Git remotes root must be an absolute folder path or an http(s) URL (got ${JSON.stringify(options.root)})`);
    }
    this.root = url ? options.root.replace(/\/+$/, '') : options.root;
    this.logger = options.logger ?? silentLogger();
  }

  /**
   * Creates (first time) or updates the bare mirror of `repository` (local path or git URL) and
   * fetches `branch` into it; an empty branch means the repository's current branch. Idempotent.
   *
   * The mirror's branch follows the user's, except that commits ADO added on top of it (merged
   * local pull requests) are kept while the user's branch has not moved elsewhere, so that the
   * next task builds on them.
   */
  async importRepository(repository: string, branch: string): Promise<ImportedRepository> {
    const source = isGitUrl(repository.trim()) ? urlSource(repository.trim()) : await this.localSource(repository);
    const baseBranch = branch.trim() || (await currentBranch(source));
    await requireBranchName(baseBranch);
    const name = `${source.basename}-${hash(source.key)}.git`;
    const remote = isGitUrl(this.root) ? `${this.root}/${name}` : path.join(this.root, name);
    if (!isGitUrl(remote)) await ensureBare(remote, baseBranch);
    const view = await localView(remote);

    const imported = `${IMPORT_REFS}${baseBranch}`;
    try {
      await git(['fetch', '--quiet', '--no-tags', source.location, `+refs/heads/${baseBranch}:${imported}`], { cwd: view });
    } catch (err) {
      throw await fetchFailure(err, source, baseBranch);
    }
    const baseSha = await this.reconcile(remote, view, baseBranch, await git(['rev-parse', imported], { cwd: view }));
    this.logger.info({ repository, remote, baseBranch, baseSha }, 'Repository imported into the shared remote');
    return { remote, baseBranch, baseSha };
  }

  /**
   * Creates branch `taskBranch` at `sha` in `remote` unless it exists; with `reset`, moves it to
   * `sha`. Idempotent. Returns the branch's commit.
   */
  async ensureTaskBranch(remote: string, taskBranch: string, sha: string, options: { reset?: boolean } = {}): Promise<string> {
    await requireBranchName(taskBranch);
    const view = await localView(remote);
    if ((await gitOrNull(['cat-file', '-e', `${sha}^{commit}`], { cwd: view })) === null) {
      throw nonRetryable(FailureType.InvalidInput, `Commit ${sha} is not in the shared remote ${remote}; start from a commit ADO has imported or pushed`);
    }
    const ref = `refs/heads/${taskBranch}`;
    const current = await revParse(view, ref);
    if (current === null) {
      // Create-only (no old value), so a concurrent creator wins instead of being overwritten.
      // Create-only: when a concurrent creator won, its branch is the branch.
      const created = await setRemoteRef(remote, view, ref, sha, null).then(
        () => sha,
        async (err: unknown) => (await revParse(await localView(remote), ref)) ?? retryable(`Could not create branch ${taskBranch}`)(err),
      );
      return created;
    }
    if (options.reset && current !== sha) {
      await setRemoteRef(remote, view, ref, sha, current).catch(retryable(`Could not move branch ${taskBranch}`));
      this.logger.info({ remote, taskBranch, from: current, to: sha }, 'Task branch reset');
      return sha;
    }
    return current;
  }

  private async localSource(repository: string): Promise<Source> {
    const given = path.resolve(repository);
    const info = await stat(given).catch(() => null);
    if (info === null) {
      throw nonRetryable(FailureType.InvalidInput, `Repository ${given} does not exist; give the path of a local git repository or a git URL`);
    }
    if (!info.isDirectory()) throw nonRetryable(FailureType.InvalidInput, `Repository ${given} is a file; give the folder of a git repository`);
    const bare = await gitOrNull(['rev-parse', '--is-bare-repository'], { cwd: given });
    if (bare === null) {
      throw nonRetryable(
        FailureType.InvalidInput,
        `${given} is not a git repository; run "git init" and commit your code there first, or give a git URL`,
      );
    }
    const top = bare === 'true' ? given : await git(['rev-parse', '--show-toplevel'], { cwd: given });
    const location = await realpath(top);
    if (location !== (await realpath(given))) {
      // Taking the enclosing repository could mean a home folder's dotfiles repository: ask.
      throw nonRetryable(
        FailureType.InvalidInput,
        `${given} is not the root of a git repository but lies inside the one at ${location}; give ${location}, or run "git init" in ${given}`,
      );
    }
    if (bare !== 'true') await this.warnIfDirty(location);
    return { location, key: location, basename: readableName(path.basename(location)) };
  }

  private async warnIfDirty(location: string): Promise<void> {
    const status = await git(['status', '--porcelain'], { cwd: location });
    if (status !== '') {
      this.logger.warn(
        { repository: location, changedPaths: status.split('\n').length },
        'Repository has uncommitted changes; ADO uses committed state only (commit them first to include them)',
      );
    }
  }

  /** Points the mirror's branch at the user's commit, keeping ADO commits made on top of it. */
  private async reconcile(remote: string, view: string, branch: string, imported: string): Promise<string> {
    const ref = `refs/heads/${branch}`;
    const current = await revParse(view, ref);
    if (current === imported) return imported;
    if (current !== null && (await isAncestor(view, imported, current))) {
      this.logger.info({ remote, branch, kept: current }, 'Keeping commits ADO merged on top of the repository branch');
      return current;
    }
    if (current !== null && !(await isAncestor(view, current, imported))) {
      this.logger.warn({ remote, branch, dropped: current, now: imported }, 'Repository branch moved elsewhere; ADO merges not in it leave the mirror branch');
    }
    try {
      await setRemoteRef(remote, view, ref, imported, current);
    } catch (err) {
      // A concurrent import of the same repository may have moved it where this one would.
      const now = await revParse(await localView(remote), ref);
      if (now !== null && (now === imported || (await isAncestor(view, imported, now)))) return now;
      retryable(`Could not update branch ${branch}`)(err);
    }
    return imported;
  }
}

function urlSource(url: string): Source {
  const key = url.replace(/\/+$/, '').replace(/\.git$/, '');
  return { location: url, key, basename: readableName(key.split(/[/:]/).pop() ?? '') };
}

/** The branch HEAD points to in the source (`git ls-remote --symref`). */
async function currentBranch(source: Source): Promise<string> {
  let listing: string;
  try {
    listing = await git(['ls-remote', '--symref', source.location, 'HEAD']);
  } catch (err) {
    throw unreachable(source, err);
  }
  const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(listing);
  if (!match?.[1]) {
    throw nonRetryable(FailureType.InvalidInput, `Cannot tell the current branch of ${source.location} (detached HEAD?); name the branch to use`);
  }
  return match[1];
}

async function fetchFailure(err: unknown, source: Source, branch: string): Promise<AdoError> {
  if (err instanceof GitCommandError && /couldn't find remote ref/i.test(err.stderr)) {
    const heads = await gitOrNull(['ls-remote', '--heads', source.location]);
    const names = (heads ?? '').split('\n').flatMap((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1] ?? []);
    const available = names.length > 0 ? `branches there: ${names.slice(0, 20).join(', ')}` : 'it has no branches yet (no commits?)';
    return nonRetryable(FailureType.InvalidInput, `Branch ${branch} not found in ${source.location}; ${available}. Give one of them, or an empty branch for the current one`, { cause: err });
  }
  if (err instanceof GitCommandError && /cannot lock ref|unable to (create|lock)/i.test(err.stderr)) {
    // Another import of the same repository is updating the mirror right now.
    return new AdoError(FailureType.RepositoryError, `Shared remote busy: ${firstLines(err.stderr, 2)}`, { cause: err });
  }
  return unreachable(source, err);
}

function unreachable(source: Source, err: unknown): AdoError {
  const why = err instanceof GitCommandError ? firstLines(err.stderr, 3) : String(err);
  // The pre-flight read it when the task started: a server away for a while is worth a retry.
  if (isTransportFailure(why)) return serverAway(`Could not reach repository ${source.location}: ${why}`, err);
  return nonRetryable(
    FailureType.RepositoryError,
    `Cannot read repository ${source.location}: ${why}. Check the URL, the network and the credentials git uses for it`,
    { cause: err },
  );
}

/** A git failure that a retry may fix (a concurrent ref update). */
function retryable(message: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof AdoError && err.nonRetryable) throw err;
    throw new AdoError(FailureType.RepositoryError, `${message}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  };
}

/** A name that is safe in a folder name and still tells a human which repository it is. */
function readableName(basename: string): string {
  return basename.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'repository';
}

function hash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}
