/** What a pull request changes, counted with git between its base and head. */
import type { PullRequestInfo } from '../domain/task';
import { git } from '../workspace/git';

export type DiffStats = NonNullable<PullRequestInfo['stats']>;

/**
 * Commits on `head` not on `base`, and files, insertions and deletions from their merge base to
 * `head` (what a reviewer sees, whatever moved on `base` since).
 */
export async function diffStats(repoDir: string, base: string, head: string): Promise<DiffStats> {
  const [commits, shortstat] = await Promise.all([
    git(['rev-list', '--count', `${base}..${head}`], { cwd: repoDir }),
    git(['diff', '--shortstat', `${base}...${head}`], { cwd: repoDir }),
  ]);
  const count = (pattern: RegExp) => Number(pattern.exec(shortstat)?.[1] ?? 0);
  return {
    commits: Number(commits),
    filesChanged: count(/(\d+) files? changed/),
    insertions: count(/(\d+) insertions?\(\+\)/),
    deletions: count(/(\d+) deletions?\(-\)/),
  };
}
