/**
 * One provider per task, chosen by its repository: a repository on the configured GitHub gets a
 * GitHub pull request, anything else a local one — no switch to flip per task. A GitHub
 * repository without a token, or a local repository when GitHub is required, is refused when the
 * task starts (`preflight`), saying what to set.
 */
import { FailureType, nonRetryable } from '../domain/errors';
import type { PullRequestInfo } from '../domain/task';
import { isOnGitHub } from './github-repository';
import type { OpenPullRequestInput, PreflightInput, PullRequestProvider } from './provider';

export interface PullRequestRouterOptions {
  local: PullRequestProvider;
  /** Absent when no GITHUB_TOKEN is configured. */
  github?: PullRequestProvider;
  /** Web root of the GitHub in use (`https://github.com/`). */
  gitHubWebUrl: string;
}

export class PullRequestRouter implements PullRequestProvider {
  readonly name = 'router';

  constructor(private readonly options: PullRequestRouterOptions) {}

  /** The provider for tasks on `repository`. */
  providerFor(repository: string): PullRequestProvider {
    if (!isOnGitHub(repository, this.options.gitHubWebUrl)) return this.options.local;
    return this.options.github ?? this.noToken(repository);
  }

  async preflight(input: PreflightInput): Promise<void> {
    await this.providerFor(input.repository).preflight?.(input);
  }

  open(input: OpenPullRequestInput): Promise<PullRequestInfo> {
    return this.providerFor(input.repo.repository).open(input);
  }

  merge(pr: PullRequestInfo): Promise<PullRequestInfo> {
    if (pr.provider !== 'github') return this.options.local.merge(pr);
    return (this.options.github ?? this.noToken(pr.url)).merge(pr);
  }

  private noToken(repository: string): never {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `${repository} is on GitHub, and no GITHUB_TOKEN is configured: set GITHUB_TOKEN on the workers to a token with contents:write and pull_requests:write on it (or ADO_PR_PROVIDER=local to keep pull requests in ADO)`,
    );
  }
}
