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
