/** How the CLI prints: one JSON document with --json, short human lines otherwise. */
import type { FollowEvent, TaskReport } from '../client/task-client';
import type { AgentStep } from '../domain/agent-tools';
import { describeRunning, type RunningActivity } from '../domain/progress';
import type { ApprovalRequest, PhaseChange, TaskExecutionState } from '../domain/task';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${printable(line)}\n`);
}

/**
 * `text` without control characters but newlines and tabs: much of what ADO prints comes from a
 * model or a repository (commands, errors, plans), whose escape sequences must not drive the terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '�');
}

/** The exact commands a human runs to decide a pending checkpoint. */
function decisionHint(taskId: string, request: ApprovalRequest, ado = 'ado'): string {
  return `  approve: ${ado} approve ${taskId} --checkpoint ${request.checkpoint}\n  reject:  ${ado} reject ${taskId} --checkpoint ${request.checkpoint} --comment "<why>"`;
}

/** One line for a phase change while following a task. */
function phaseLine(taskId: string, change: PhaseChange, maxIterations: number): string {
  const time = change.at.slice(11, 19);
  const iteration = change.phase === 'coding' || change.phase === 'testing' ? ` (iteration ${change.attempt}/${maxIterations})` : '';
  return `${time} ${taskId}: ${change.phase}${iteration}`;
}

/** What a follower prints for one event: the phase line, the tool call, or the pending approval and how to decide it. */
export function followLines(event: FollowEvent, ado = 'ado'): string {
  if (event.type === 'phase') return phaseLine(event.state.taskId, event.change, event.state.maxIterations);
  if (event.type === 'step') return `    ${stepLine(event.step)}`;
  if (event.type === 'progress') return event.running.map((running) => `    now: ${describeRunning(running)}`).join('\n');
  const { request, state } = event;
  return `${request.requestedAt.slice(11, 19)} ${state.taskId}: waiting for approval at "${request.checkpoint}"\n${decisionHint(state.taskId, request, ado)}`;
}

/** Steps of the agent's coding session shown by `ado status` (the JSON has up to 100). */
const SHOWN_STEPS = 12;

/** The coding session's latest tool calls, one line each: step, tool, argument, outcome, duration. */
function sessionLines(session: NonNullable<TaskExecutionState['session']>): string[] {
  const shown = session.steps.slice(-SHOWN_STEPS);
  const lines = [`  coding session (iteration ${session.iteration}): ${session.steps.length ? `${session.steps.at(-1)!.index} tool calls` : 'started'}`];
  for (const step of shown) lines.push(`    ${stepLine(step)}`);
  return lines;
}

/** One tool call: step, tool, argument, outcome, duration. */
function stepLine(step: AgentStep): string {
  const mark = step.outcome === 'ok' ? 'ok' : 'FAILED';
  return `${String(step.index).padStart(3)} ${step.tool.padEnd(11)} ${step.argument.padEnd(40)} ${mark.padEnd(6)} ${(step.durationMs / 1000).toFixed(1)} s`;
}

/** A long prompt (they can be 20,000 characters) is cut to this on its line. */
const PROMPT_LINE_CHARS = 200;
/** The plan shown at the `plan` checkpoint; `ado status --json` has all of it. */
const PLAN_LINES = 40;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}… (${text.length} characters; --json has all)` : text;
}

function excerpt(text: string, maxLines: number): string[] {
  const lines = text.trimEnd().split('\n').map((line) => cut(line, PROMPT_LINE_CHARS));
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `… (${lines.length - maxLines} more lines; --json has all)`] : lines;
}

/** A task as the server knows it, when no worker answered for it: `ado status` without a worker. */
export function describeReport(report: TaskReport): string {
  return [
    `Task ${report.taskId}: ${report.phase ?? '?'} (status ${report.status}; from the server: no worker answered for the task)`,
    `  repository: ${report.repository ?? '?'}`,
    `  started:    ${report.startTime.toISOString()}${report.closeTime ? `, ended ${report.closeTime.toISOString()}` : ''}`,
    ...runningLines(report.running),
    ...report.problems.map((problem) => `  problem:    ${problem}`),
  ].join('\n');
}

/** Phases after which a task's workflow ends. */
const FINAL_PHASES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/**
 * A human summary of a task's state (`ado status`). `status` is the workflow's, from the server:
 * a final phase while the workflow still runs means the outcome is being recorded.
 */
/** What runs now, one line per activity, as `ado status` shows it. */
function runningLines(running: readonly RunningActivity[]): string[] {
  return running.map((activity) => `  now:        ${describeRunning(activity)}`);
}

export function describeState(state: TaskExecutionState, status?: string, running: readonly RunningActivity[] = []): string {
  const finishing = status === 'RUNNING' && FINAL_PHASES.has(state.phase) ? ' (finishing: recording the outcome; the workflow is still running)' : '';
  const lines = [
    `Task ${state.taskId}: ${state.phase}${finishing}`,
    `  repository: ${state.repository}`,
    `  prompt:     ${cut(state.prompt.split('\n')[0] ?? '', PROMPT_LINE_CHARS)}`,
    `  iterations: ${state.attempts}/${state.maxIterations}`,
    `  tokens:     ${state.usage.totalTokens}${state.usage.costUsd !== undefined ? ` ($${state.usage.costUsd.toFixed(4)})` : ''}`,
  ];
  if (state.taskBranch) lines.push(`  branch:     ${state.taskBranch}${state.headSha ? ` @ ${state.headSha.slice(0, 10)}` : ''}`);
  if (state.pullRequest) lines.push(`  pull request: ${state.pullRequest.url}${state.pullRequest.merged ? ' (merged)' : ''}`);
  if (state.failure) lines.push(`  reason:     ${state.failure}`);
  lines.push(...runningLines(running));
  if (state.session) lines.push(...sessionLines(state.session));
  const lastErrors = state.errors.filter((e) => e.iteration === state.attempts);
  for (const e of lastErrors) lines.push(`  error (${e.tool}${e.exitCode !== undefined ? `, exit ${e.exitCode}` : ''}): ${e.message.split('\n')[0]}`);
  for (const ignored of state.ignoredDecisions ?? []) lines.push(`  ignored decision (${ignored.at}): ${ignored.reason}`);
  if (state.pendingApproval) {
    lines.push(`  waiting for approval at "${state.pendingApproval.checkpoint}" (until ${state.pendingApproval.expiresAt})`);
    // The plan is what a human decides on at this checkpoint.
    if (state.pendingApproval.checkpoint === 'plan' && state.plan) lines.push('  plan:', ...excerpt(state.plan, PLAN_LINES).map((line) => `    ${line}`));
    lines.push(decisionHint(state.taskId, state.pendingApproval));
  }
  return lines.join('\n');
}
