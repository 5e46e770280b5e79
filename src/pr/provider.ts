/**
 * Pull-request providers: where a task's branch becomes a reviewable pull request, and where an
 * approved one is merged. `local` keeps both in ADO (shared bare remote + store); `github` uses
 * the GitHub REST API.
 */
import type { RepoRef } from '../domain/repo-ref';
import type { PullRequestInfo } from '../domain/task';

/** What to open: `repo.sha` in the shared remote is the head to propose, `description` the body (the task's plan). */
export interface OpenPullRequestInput {
  /** The task that asks; a local pull request records it. */
  taskId: string;
  repo: RepoRef;
  baseBranch: string;
  headBranch: string;
  title: string;
  description: string;
}

/** What a provider checks when a task starts, before any model call. */
export interface PreflightInput {
  /** The user's repository as the task names it. */
  repository: string;
}

export interface PullRequestProvider {
  /** `local` or `github`: recorded on every `PullRequestInfo` it returns. */
  readonly name: string;
  /** Opens the pull request of `headBranch`; a second call returns the one the first opened. */
  open(input: OpenPullRequestInput): Promise<PullRequestInfo>;
  /** Merges it into its base; merging a merged pull request returns it as it is. */
  merge(pr: PullRequestInfo): Promise<PullRequestInfo>;
  /**
   * Throws a non-retryable error saying what to set when a pull request for this task could not
   * be opened (no token, no push access…): called when the task starts. Absent: nothing to check.
   */
  preflight?(input: PreflightInput): Promise<void>;
}
