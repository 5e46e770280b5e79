/**
 * A task's diff from the shared git remote, read with a size bound: a huge change must not load
 * a huge string into the API process or the browser.
 */
import { spawn } from 'node:child_process';
import type { TaskExecutionState } from '../domain/task';
import { isLocalRemote } from '../workspace/git';
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
 * compare yet, or when its remote is not on this machine.
 */
export async function taskDiff(state: TaskExecutionState, maxBytes = MAX_DIFF_BYTES): Promise<TaskDiff> {
  const head = state.pullRequest?.headSha ?? state.headSha;
  const { remote, baseSha: base } = state;
  if (!remote || !base || !head) {
    throw new HttpProblem(404, 'no-diff', 'No diff yet', `Task ${state.taskId} has no commits to compare yet (phase: ${state.phase}).`);
  }
  if (!isLocalRemote(remote) || !SHA.test(base) || !SHA.test(head)) {
    const where = state.pullRequest ? ` See the pull request at ${state.pullRequest.url}.` : '';
    throw new HttpProblem(404, 'diff-unavailable', 'Diff not available here', `The task's remote ${remote} is not a git repository on the API's machine.${where}`);
  }
  const { text, truncated } = await boundedGitOutput(remote, ['diff', '--no-color', '--no-ext-diff', `${base}..${head}`], maxBytes);
  return { remote, base, head, pullRequest: state.pullRequest !== undefined, diff: text, truncated };
}

/** Runs git in `cwd`, keeping at most `maxBytes` of its output (cut at a line end) and stopping it beyond. */
function boundedGitOutput(cwd: string, args: string[], maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', cwd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' } });
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
        reject(new Error(`git ${args[0] ?? ''} failed in ${cwd} (exit ${code ?? 'signal'}): ${stderr.trim()}`));
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
