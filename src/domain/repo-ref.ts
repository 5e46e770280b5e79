/** Where a task's code is: a commit of the shared git remote every worker can fetch. */

/** A point in the shared git remote every worker can fetch. */
export interface RepoRef {
  /** What the user gave: local path or git URL (for messages and PR metadata). */
  repository: string;
  /** The shared remote activities fetch from and push to. */
  remote: string;
  /** Commit the activity works on. */
  sha: string;
}
