/** Which GitHub repository a git URL names. */
import { FailureType, nonRetryable } from '../domain/errors';

export interface GitHubRepository {
  owner: string;
  repo: string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Owner and name from a repository URL: `https://github.com/o/r(.git)`, `git@github.com:o/r.git`,
 * `ssh://git@host(:port)/o/r.git` (any host: GitHub Enterprise too). Anything else throws a
 * non-retryable `InvalidInput` error.
 */
export function parseGitHubRepository(url: string): GitHubRepository {
  const trimmed = url.trim();
  const scp = /^[\w.-]+@[\w.-]+:(.+)$/.exec(trimmed);
  let pathPart: string | undefined = scp?.[1];
  if (pathPart === undefined && /^(https?|ssh|git):\/\//i.test(trimmed)) {
    try {
      pathPart = new URL(trimmed).pathname;
    } catch {
      pathPart = undefined;
    }
  }
  const segments = (pathPart ?? '').replace(/\/+$/, '').replace(/\.git$/, '').split('/').filter(Boolean);
  const [owner, repo] = segments.slice(-2);
  if (segments.length < 2 || !owner || !repo || !NAME.test(owner) || !NAME.test(repo)) {
    throw nonRetryable(
      FailureType.InvalidInput,
      `Cannot tell the GitHub repository from ${JSON.stringify(url)}; give its URL as https://github.com/<owner>/<repo> or git@github.com:<owner>/<repo>.git`,
    );
  }
  return { owner, repo };
}

/** The web (and git) root of the GitHub whose REST API is at `apiUrl`: `https://github.com/`, `https://<host>/`. */
export function gitHubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com/';
  return `${url.protocol}//${url.host}/`;
}

/** Whether `repository` (a URL or scp-like address) lives on the GitHub at `webUrl`. */
export function isOnGitHub(repository: string, webUrl: string): boolean {
  const host = new URL(webUrl).host.toLowerCase();
  const trimmed = repository.trim();
  const scp = /^[\w.-]+@([\w.-]+):/.exec(trimmed);
  if (scp?.[1]) return scp[1].toLowerCase() === new URL(webUrl).hostname.toLowerCase();
  if (!/^(https?|ssh|git):\/\//i.test(trimmed)) return false;
  try {
    const url = new URL(trimmed);
    return url.host.toLowerCase() === host || (url.protocol === 'ssh:' && url.hostname.toLowerCase() === new URL(webUrl).hostname.toLowerCase());
  } catch {
    return false;
  }
}
