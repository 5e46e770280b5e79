/** How the CLI prints: one JSON document with --json, short human lines otherwise. */
import type { ApprovalRequest, TaskExecutionState } from '../domain/task';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The exact commands a human runs to decide a pending checkpoint. */
export function decisionHint(taskId: string, request: ApprovalRequest): string {
  return `  approve: ado approve ${taskId} --checkpoint ${request.checkpoint}\n  reject:  ado reject ${taskId} --checkpoint ${request.checkpoint} --comment "<why>"`;
}

/** One line for a phase change while following a task. */
export function phaseLine(state: TaskExecutionState): string {
  const time = new Date().toISOString().slice(11, 19);
  const iteration = state.phase === 'coding' || state.phase === 'testing' ? ` (iteration ${state.attempts}/${state.maxIterations})` : '';
  const waiting = state.pendingApproval ? ` — waiting for approval at "${state.pendingApproval.checkpoint}"` : '';
  return `${time} ${state.taskId}: ${state.phase}${iteration}${waiting}`;
}

/** A human summary of a task's state (`ado status`). */
export function describeState(state: TaskExecutionState): string {
  const lines = [
    `Task ${state.taskId}: ${state.phase}`,
    `  repository: ${state.repository}`,
    `  prompt:     ${state.prompt.split('\n')[0]}`,
    `  iterations: ${state.attempts}/${state.maxIterations}`,
    `  tokens:     ${state.usage.totalTokens}${state.usage.costUsd !== undefined ? ` ($${state.usage.costUsd.toFixed(4)})` : ''}`,
  ];
  if (state.taskBranch) lines.push(`  branch:     ${state.taskBranch}${state.headSha ? ` @ ${state.headSha.slice(0, 10)}` : ''}`);
  if (state.pullRequest) lines.push(`  pull request: ${state.pullRequest.url}${state.pullRequest.merged ? ' (merged)' : ''}`);
  if (state.failure) lines.push(`  reason:     ${state.failure}`);
  const lastErrors = state.errors.filter((e) => e.iteration === state.attempts);
  for (const e of lastErrors) lines.push(`  error (${e.tool}${e.exitCode !== undefined ? `, exit ${e.exitCode}` : ''}): ${e.message.split('\n')[0]}`);
  if (state.pendingApproval) {
    lines.push(`  waiting for approval at "${state.pendingApproval.checkpoint}" (until ${state.pendingApproval.expiresAt})`);
    lines.push(decisionHint(state.taskId, state.pendingApproval));
  }
  return lines.join('\n');
}
