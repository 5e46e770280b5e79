/**
 * A task's diff from the shared git remote, read with a size bound: a huge change must not load
 * a huge string into the API process or the browser.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TaskExecutionState } from '../domain/task';
import { firstLines, GitCommandError, gitInvocation, isLocalRemote, revParse } from '../workspace/git';
import { HttpProblem } from './problems';

/** Beyond this the diff is cut (at a line end) and marked truncated. */
const MAX_DIFF_BYTES = 1024 * 1024;

export interface TaskDiff {
  remote: string;
  base: string;
  head: string;
  /** True when `head` is the pull request's head; false while the task is still coding. */
  pullRequest: boolean;
  diff: string;
  truncated: boolean;
}

const SHA = /^[0-9a-f]{7,64}$/;

/**
 * `git diff base..head` of the task in its shared remote: the pull request's head when there is
 * one, otherwise the task branch so far. Throws a 404 problem when the task has no commits to
 * compare yet, when its remote is not on this machine, and when git cannot make the diff there
 * (the remote or one of the commits is gone), saying what is missing.
 */
export async function taskDiff(state: TaskExecutionState, maxBytes = MAX_DIFF_BYTES): Promise<TaskDiff> {
  const head = state.pullRequest?.headSha ?? state.headSha;
  const { remote, baseSha: base } = state;
  if (!remote || !base || !head) {
    throw new HttpProblem(404, 'no-diff', 'No diff yet', `Task ${state.taskId} has no commits to compare yet (phase: ${state.phase}).`);
  }
  const where = state.pullRequest ? ` See the pull request at ${state.pullRequest.url}.` : '';
  if (!isLocalRemote(remote) || !SHA.test(base) || !SHA.test(head)) {
    throw new HttpProblem(404, 'diff-unavailable', 'Diff not available here', `The task's remote ${remote} is not a git repository on the API's machine.${where}`);
  }
  try {
    const { text, truncated } = await boundedGitOutput(remote, ['diff', '--no-color', '--no-ext-diff', '--no-textconv', `${base}..${head}`], maxBytes);
    return { remote, base, head, pullRequest: state.pullRequest !== undefined, diff: text, truncated };
  } catch (err) {
    if (!(err instanceof GitCommandError)) throw err;
    const missing = await whatIsMissing(remote, { base, head }, err);
    throw new HttpProblem(404, 'diff-unavailable', 'Diff not available here', `No diff for task ${state.taskId}: ${missing}${where}`, undefined, { cause: err });
  }
}

/** Why git could not diff `base..head` in `remote`, in words: the remote gone, or which commits it lacks. */
async function whatIsMissing(remote: string, commits: { base: string; head: string }, err: GitCommandError): Promise<string> {
  if (!existsSync(remote)) return `its remote ${remote} is not on this machine any more.`;
  const absent: string[] = [];
  for (const [name, sha] of Object.entries(commits)) {
    if ((await revParse(remote, sha).catch(() => null)) === null) absent.push(`${name} commit ${sha}`);
  }
  if (absent.length > 0) return `the ${absent.join(' and the ')} ${absent.length > 1 ? 'are' : 'is'} missing from its remote ${remote}.`;
  return `git could not compare ${commits.base}..${commits.head} in its remote ${remote}: ${firstLines(err.stderr, 1)}`;
}

/**
 * Runs git in `cwd` as `git()` does, keeping at most `maxBytes` of its output (cut at a line end)
 * and stopping it beyond. A non-zero exit (other than the stop) is a `GitCommandError`.
 */
async function boundedGitOutput(cwd: string, args: string[], maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const invocation = await gitInvocation(args, { cwd });
  return new Promise((resolve, reject) => {
    const child = spawn('git', invocation.args, { stdio: ['ignore', 'pipe', 'pipe'], env: invocation.env });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        truncated = true;
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (!truncated && code !== 0) {
        reject(new GitCommandError(args, code, stderr, ''));
        return;
      }
      let output = Buffer.concat(chunks);
      if (truncated) {
        output = output.subarray(0, maxBytes);
        output = output.subarray(0, output.lastIndexOf('\n') + 1);
      }
      resolve({ text: output.toString('utf8'), truncated });
    });
  });
}
