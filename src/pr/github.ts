/**
 * Pull requests on GitHub (or GitHub Enterprise) through its REST API. The head branch is pushed
 * from the shared remote with the token in an HTTP header given through the environment: never
 * in a URL, an argument list or a log line.
 */
import { Octokit } from '@octokit/rest';
import { AdoError, FailureType, nonRetryable, type FailureTypeName } from '../domain/errors';
import type { PullRequestInfo } from '../domain/task';
import { silentLogger, type Logger } from '../telemetry/logger';
import { firstLines, git, GitCommandError, gitConfigEnv, requireBranchName } from '../workspace/git';
import { localView } from '../workspace/shared-remote';
import { parseGitHubRepository, type GitHubRepository } from './github-repository';
import type { OpenPullRequestInput, PreflightInput, PullRequestProvider } from './provider';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface GitHubProviderOptions {
  /** Needs contents:write and pull_requests:write on the repository. */
  token: string;
  /** REST API base: `https://api.github.com`, or `https://<host>/api/v3` for GitHub Enterprise. */
  apiUrl?: string;
  /** Where git pushes head branches; default: the task's repository URL (a mirror, an ssh URL…). */
  pushUrl?: string;
  logger?: Logger;
}

/** The fields of GitHub's pull-request object ADO reads. */
interface GitHubPull {
  number: number;
  html_url: string;
  title: string;
  state: string;
  merged_at: string | null;
  merged?: boolean;
  base: { ref: string };
  head: { ref: string; sha: string };
  commits?: number;
  additions?: number;
  deletions?: number;
  changed_files?: number;
}

export class GitHubPullRequestProvider implements PullRequestProvider {
  readonly name = 'github';
  private readonly octokit: Octokit;
  private readonly logger: Logger;

  constructor(private readonly options: GitHubProviderOptions) {
    if (options.token.trim() === '') throw nonRetryable(FailureType.InvalidConfig, 'GITHUB_TOKEN is empty; set it to a GitHub token for the github pull-request provider');
    this.logger = options.logger ?? silentLogger();
    const log = this.logger.child({ component: 'octokit' });
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
      userAgent: 'ado',
      log: { debug: (m: string) => log.debug(m), info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
    });
  }

  /** Pushes `repo.sha` to the head branch on GitHub, then finds its pull request or opens one. */
  async open(input: OpenPullRequestInput): Promise<PullRequestInfo> {
    const target = parseGitHubRepository(input.repo.repository);
    await Promise.all([requireBranchName(input.baseBranch), requireBranchName(input.headBranch)]);
    await this.pushHead(input.repo.remote, input.repo.sha, this.options.pushUrl ?? input.repo.repository, input.headBranch);
    const pull = (await this.findPull(target, input.headBranch)) ?? (await this.createPull(target, input));
    this.logger.info({ pr: pull.number, url: pull.html_url }, 'GitHub pull request ready');
    return toInfo(target, pull);
  }

  /**
   * Checks, before any model call (and before the import, which needs the same token), what
   * `open` will need: a GitHub repository URL, a token that may push to it (the API's view of its
   * permissions), and a push URL that takes the token.
   */
  async preflight(input: PreflightInput): Promise<void> {
    let target: GitHubRepository;
    try {
      target = parseGitHubRepository(input.repository);
    } catch (err) {
      throw nonRetryable(
        FailureType.InvalidConfig,
        `The GitHub pull-request provider needs the task's repository on GitHub, not ${input.repository}: give --repo https://github.com/<owner>/<repo>, or unset ADO_PR_PROVIDER=github to keep local repositories' pull requests in ADO`,
        { cause: err },
      );
    }
    const repo = await this.call(`read ${target.owner}/${target.repo}`, async () => (await this.octokit.rest.repos.get({ ...target })).data);
    if (repo.permissions && !repo.permissions.push) {
      throw nonRetryable(FailureType.InvalidConfig, `GITHUB_TOKEN may read ${target.owner}/${target.repo} but not push to it: give the token contents:write and pull_requests:write on the repository`);
    }
    const pushUrl = this.options.pushUrl ?? input.repository;
    try {
      await git(['ls-remote', '--heads', pushUrl], { env: gitAuthEnv(this.options.token) });
    } catch (err) {
      throw pushFailure(`Could not push to ${pushUrl}`, err);
    }
  }

  /** Merges with a merge commit, only if the head is still the reviewed commit. */
  async merge(pr: PullRequestInfo): Promise<PullRequestInfo> {
    const { target, number } = parseId(pr.id);
    const current = await this.getPull(target, number);
    if (isMerged(current)) return toInfo(target, current);
    await this.call(`merge pull request #${number} of ${target.owner}/${target.repo}`, () =>
      this.octokit.rest.pulls.merge({ ...target, pull_number: number, sha: pr.headSha, merge_method: 'merge' }),
    );
    this.logger.info({ pr: number }, 'GitHub pull request merged');
    return toInfo(target, await this.getPull(target, number));
  }

  private async createPull(target: GitHubRepository, input: OpenPullRequestInput): Promise<GitHubPull> {
    try {
      return await this.call(`open a pull request on ${target.owner}/${target.repo}`, async () => {
        const { baseBranch: base, headBranch: head, title, description: body } = input;
        return (await this.octokit.rest.pulls.create({ ...target, head, base, title, body })).data;
      });
    } catch (err) {
      // GitHub refuses a second pull request for a head: a concurrent attempt opened it meanwhile.
      const found = err instanceof AdoError && err.type === FailureType.InvalidInput ? await this.findPull(target, input.headBranch) : null;
      if (found === null) throw err;
      return found;
    }
  }

  private async findPull(target: GitHubRepository, headBranch: string): Promise<GitHubPull | null> {
    const pulls = await this.call(`list pull requests of ${target.owner}/${target.repo}`, async () => {
      const listed = await this.octokit.rest.pulls.list({ ...target, head: `${target.owner}:${headBranch}`, state: 'all', per_page: 100 });
      return listed.data;
    });
    // An open one first; a merged one is done; a closed, unmerged one was abandoned: open anew.
    const match = pulls.find((p) => p.state === 'open') ?? pulls.find(isMerged);
    // The list leaves out the diff stats; the pull request itself has them.
    return match ? this.getPull(target, match.number) : null;
  }

  private getPull(target: GitHubRepository, number: number): Promise<GitHubPull> {
    return this.call(`read pull request #${number} of ${target.owner}/${target.repo}`, async () => {
      const got = await this.octokit.rest.pulls.get({ ...target, pull_number: number });
      return got.data;
    });
  }

  /**
   * Pushes from the shared remote. ADO owns its task branches, so the push is forced: a reset
   * task may rewrite its branch.
   */
  private async pushHead(remote: string, sha: string, pushUrl: string, headBranch: string): Promise<void> {
    const view = await localView(remote);
    try {
      await git(['push', '--quiet', '--force', pushUrl, `${sha}:refs/heads/${headBranch}`], { cwd: view, env: gitAuthEnv(this.options.token) });
    } catch (err) {
      throw pushFailure(`Could not push ${headBranch} to ${pushUrl}`, err);
    }
  }

  /** Runs one API call, turning GitHub's refusals into errors that say what to do. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw apiFailure(what, err);
    }
  }
}

/**
 * Environment for git that sends `token` as GitHub expects from git clients (basic auth with user
 * `x-access-token`). The environment of a process is private to its user, unlike its arguments.
 */
export function gitAuthEnv(token: string): Record<string, string> {
  return gitConfigEnv([['http.extraHeader', gitHubAuthorization(token)]], process.env);
}

/** The header git sends GitHub for `token` (basic auth with user `x-access-token`). */
export function gitHubAuthorization(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** Refused credentials and unknown repositories are final; anything else (network) may pass. */
function pushFailure(what: string, err: unknown): AdoError {
  const why = err instanceof GitCommandError ? firstLines(err.stderr, 3) : String(err);
  if (/could not read (username|password)|authentication failed|\b40[13]\b|permission .*denied/i.test(why)) {
    return nonRetryable(FailureType.InvalidConfig, `${what}: the credentials were refused (${why}). Set GITHUB_TOKEN to a token that may push to the repository`, { cause: err });
  }
  if (/not found|does not appear to be a git repository|\b404\b/i.test(why)) {
    return nonRetryable(FailureType.RepositoryError, `${what}: no such repository (${why}). Check the repository URL`, { cause: err });
  }
  return new AdoError(FailureType.RepositoryError, `${what}: ${why}`, { cause: err });
}

function apiFailure(what: string, err: unknown): Error {
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number') return new AdoError(FailureType.RepositoryError, `Could not ${what}: ${String(err)}`, { cause: err });
  const data = (err as { response?: { data?: { message?: string; errors?: Array<{ message?: string; field?: string; code?: string }> } } }).response?.data;
  const detail = [data?.message, ...(data?.errors ?? []).map((e) => e.message ?? [e.field, e.code].filter(Boolean).join(' '))].filter(Boolean).join('; ');
  const said = `GitHub answered ${status}${detail ? `: ${detail}` : ''}`;
  const fail = (type: FailureTypeName, advice: string) => nonRetryable(type, `Could not ${what}: ${said}. ${advice}`, { cause: err });
  const retry = (type: FailureTypeName, advice: string) => new AdoError(type, `Could not ${what}: ${said}. ${advice}`, { cause: err });
  const rateLimited = (status === 403 || status === 429) && /rate limit/i.test(detail);
  if (rateLimited) return retry(FailureType.RateLimited, 'Rate limited; retrying later');
  switch (status) {
    case 401:
      return fail(FailureType.InvalidConfig, 'Set GITHUB_TOKEN to a valid token');
    case 403:
      return fail(FailureType.InvalidConfig, 'Give GITHUB_TOKEN pull_requests:write and contents:write on the repository');
    case 404:
      return fail(FailureType.RepositoryError, 'Check the repository URL, and that GITHUB_TOKEN can see the repository');
    case 405:
    case 409:
      return fail(FailureType.RepositoryError, 'The pull request cannot be merged as it is (conflicts, failed checks, or a head that moved since review)');
    case 422:
      return fail(FailureType.InvalidInput, 'Check the base and head branches');
    default:
      return status >= 500 ? retry(FailureType.RepositoryError, 'Retrying') : fail(FailureType.RepositoryError, 'GitHub refused the request');
  }
}

function isMerged(pull: GitHubPull): boolean {
  return pull.merged === true || pull.merged_at !== null;
}

function toInfo(target: GitHubRepository, pull: GitHubPull): PullRequestInfo {
  const info: PullRequestInfo = {
    provider: 'github',
    id: `${target.owner}/${target.repo}#${pull.number}`,
    number: pull.number,
    url: pull.html_url,
    title: pull.title,
    baseBranch: pull.base.ref,
    headBranch: pull.head.ref,
    headSha: pull.head.sha,
    merged: isMerged(pull),
  };
  if (pull.commits !== undefined && pull.changed_files !== undefined && pull.additions !== undefined && pull.deletions !== undefined) {
    info.stats = { commits: pull.commits, filesChanged: pull.changed_files, insertions: pull.additions, deletions: pull.deletions };
  }
  return info;
}

function parseId(id: string): { target: GitHubRepository; number: number } {
  const match = /^([^/]+)\/([^#]+)#(\d+)$/.exec(id);
  if (!match) throw nonRetryable(FailureType.InvalidInput, `${JSON.stringify(id)} is not a GitHub pull request id (owner/repo#number)`);
  return { target: { owner: match[1]!, repo: match[2]! }, number: Number(match[3]) };
}
