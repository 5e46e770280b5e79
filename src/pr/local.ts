/**
 * The embedded default: the task branch already lives in the shared bare remote, so a pull
 * request is a record in the ADO store, and merging it is a merge commit in that remote (a folder
 * or a git server's URL: see `shared-remote.ts`).
 */
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { PullRequestInfo } from '../domain/task';
import type { PullRequestRecord, PullRequestRepository } from '../store/types';
import { silentLogger, type Logger } from '../telemetry/logger';
import { git, GitCommandError, identityEnv, isAncestor, requireBranchName, revParse } from '../workspace/git';
import { localView, setRemoteRef } from '../workspace/shared-remote';
import { diffStats } from './diff-stats';
import type { OpenPullRequestInput, PullRequestProvider } from './provider';

export interface LocalPullRequestProviderOptions {
  store: PullRequestRepository;
  logger?: Logger;
}

export class LocalPullRequestProvider implements PullRequestProvider {
  readonly name = 'local';
  private readonly store: PullRequestRepository;
  private readonly logger: Logger;

  constructor(options: LocalPullRequestProviderOptions) {
    this.store = options.store;
    this.logger = options.logger ?? silentLogger();
  }

  /** Records the pull request of `headBranch` (pointed at `repo.sha`) with its diff stats; an open one moves to a new `repo.sha`. */
  async open(input: OpenPullRequestInput): Promise<PullRequestInfo> {
    const { repo, baseBranch, headBranch } = input;
    const remote = repo.remote;
    const existing = await this.store.findByHead(remote, headBranch);
    if (existing && (existing.headSha === repo.sha || existing.state !== 'open')) {
      if (existing.headSha !== repo.sha) this.logger.warn({ pr: existing.id, recorded: existing.headSha, asked: repo.sha }, 'Pull request already merged at another commit');
      return toInfo(existing);
    }
    await Promise.all([requireBranchName(baseBranch), requireBranchName(headBranch)]);
    const view = await localView(remote);
    const base = await revParse(view, `refs/heads/${baseBranch}`);
    if (base === null) throw nonRetryable(FailureType.RepositoryError, `Base branch ${baseBranch} is not in the shared remote ${remote}`);
    if ((await revParse(view, repo.sha)) === null) throw nonRetryable(FailureType.RepositoryError, `Commit ${repo.sha} is not in the shared remote ${remote}`);
    const stats = await diffStats(view, base, repo.sha);
    if (stats.commits === 0) {
      throw nonRetryable(FailureType.InvalidInput, `Nothing to review: ${headBranch} (${repo.sha}) adds no commits to ${baseBranch}`);
    }
    await this.pointBranch(remote, view, headBranch, repo.sha);
    if (existing) {
      // A revision after review: the open pull request now shows the new head.
      const updated = await this.store.updateHead(existing.id, repo.sha, stats);
      if (updated === null) throw new AdoError(FailureType.RepositoryError, `Pull request #${existing.number} changed state while its head moved; trying again`);
      this.logger.info({ pr: updated.id, from: existing.headSha, to: repo.sha }, 'Local pull request updated to a new head');
      return toInfo(updated);
    }
    const record = await this.store.create({
      provider: this.name,
      taskId: input.taskId,
      repository: repo.repository,
      remote,
      title: input.title,
      description: input.description,
      baseBranch,
      headBranch,
      headSha: repo.sha,
      merged: false,
      state: 'open',
      stats,
    });
    this.logger.info({ pr: record.id, url: record.url, stats }, 'Local pull request opened');
    return toInfo(record);
  }

  /**
   * Merges the reviewed head commit into the base branch with a merge commit, as GitHub does by
   * default: the base's history keeps one commit per task (easy to find and to `git revert -m 1`),
   * and the task's iterations stay visible behind it.
   */
  async merge(pr: PullRequestInfo): Promise<PullRequestInfo> {
    const record = await this.store.get(pr.id);
    if (record === null) throw nonRetryable(FailureType.InvalidInput, `Pull request ${pr.id} is not in the ADO store`);
    if (record.state === 'merged') return toInfo(record);
    if (record.state === 'closed') throw nonRetryable(FailureType.InvalidInput, `Pull request #${record.number} is closed; it cannot be merged`);

    const remote = record.remote;
    const view = await localView(remote);
    const baseRef = `refs/heads/${record.baseBranch}`;
    const base = await revParse(view, baseRef);
    if (base === null) throw nonRetryable(FailureType.RepositoryError, `Base branch ${record.baseBranch} is not in the shared remote ${remote}`);
    // An earlier attempt may have merged and then failed before recording it.
    const mergeSha = (await isAncestor(view, record.headSha, base)) ? base : await this.mergeCommit(view, record, base);
    if (mergeSha !== base) {
      await setRemoteRef(remote, view, baseRef, mergeSha, base).catch((err: unknown) => {
        if (err instanceof AdoError && err.nonRetryable) throw err;
        throw new AdoError(FailureType.RepositoryError, `Base branch ${record.baseBranch} moved during the merge; retrying merges again`, { cause: err });
      });
    }
    const merged = await this.store.markMerged(record.id, mergeSha);
    this.logger.info({ pr: record.id, mergeSha }, 'Local pull request merged');
    return toInfo(merged);
  }

  private async mergeCommit(remote: string, record: PullRequestRecord, base: string): Promise<string> {
    let tree: string;
    try {
      tree = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', base, record.headSha], { cwd: remote });
    } catch (err) {
      // Exit 1 with the tree and the conflicted files on stdout means conflicts.
      if (!(err instanceof GitCommandError) || err.exitCode !== 1) throw err;
      const files = err.stdout.split('\n').slice(1).filter(Boolean);
      throw nonRetryable(
        FailureType.RepositoryError,
        `Pull request #${record.number} conflicts with ${record.baseBranch} in ${files.join(', ')}; resolve them on ${record.headBranch}, or run the task again from the current ${record.baseBranch}`,
        { cause: err },
      );
    }
    const message = `Merge pull request #${record.number} from ${record.headBranch}\n\n${record.title}`;
    return git(['commit-tree', tree, '-p', base, '-p', record.headSha, '-m', message], { cwd: remote, env: identityEnv() });
  }

  /** Makes `branch` point at `sha`: the pull request shows exactly the commit it was opened for. */
  private async pointBranch(remote: string, view: string, branch: string, sha: string): Promise<void> {
    const ref = `refs/heads/${branch}`;
    const current = await revParse(view, ref);
    if (current === sha) return;
    if (current !== null) this.logger.warn({ branch, from: current, to: sha }, 'Moving the head branch to the commit under review');
    await setRemoteRef(remote, view, ref, sha, current);
  }
}


function toInfo(record: PullRequestRecord): PullRequestInfo {
  const { provider, id, number, url, title, baseBranch, headBranch, headSha, merged, stats } = record;
  return { provider, id, number, url, title, baseBranch, headBranch, headSha, merged, ...(stats ? { stats } : {}) };
}
