/**
 * The task's vocabulary, shared by workflow, activities, clients and CLI.
 * Pure types and constants only: the workflow bundle imports this module.
 */
import type { AgentStep } from './agent-tools';

/** Task queues, one per worker pool (docs/architecture.md, "A task's data flow"). */
export const TASK_QUEUES = {
  task: 'ado-tasks',
  code: 'ado-code',
  review: 'ado-review',
} as const;
export type WorkerPool = keyof typeof TASK_QUEUES;
export type TaskQueues = Record<WorkerPool, string>;

/** The pools a worker process runs: one, or every pool for `all`. */
export function poolsOf(choice: WorkerPool | 'all'): WorkerPool[] {
  return choice === 'all' ? (Object.keys(TASK_QUEUES) as WorkerPool[]) : [choice];
}

/**
 * The task queues of one ADO deployment. A prefix lets several deployments (or tests) share a
 * namespace; the workflow finds its activities' queues from the prefix of its own queue.
 */
export function taskQueues(prefix = ''): TaskQueues {
  return { task: prefix + TASK_QUEUES.task, code: prefix + TASK_QUEUES.code, review: prefix + TASK_QUEUES.review };
}

/** The prefix of a task queue named by `taskQueues(prefix)[pool]` (by default the workflow's). */
export function queuePrefixOf(taskQueue: string, pool: WorkerPool = 'task'): string {
  return taskQueue.endsWith(TASK_QUEUES[pool]) ? taskQueue.slice(0, -TASK_QUEUES[pool].length) : '';
}

const WORKSPACE_QUEUE_MARK = 'ado-ws-';

/**
 * The task queue of one worker process's warm workspaces (the worker-specific task queue
 * pattern): only that process polls it, so an activity sent there finds the task's tree ready.
 */
export function workspaceQueue(prefix: string, workerId: string): string {
  return `${prefix}${WORKSPACE_QUEUE_MARK}${workerId}`;
}

/** Whether `taskQueue` is a worker's workspace queue (see `workspaceQueue`). */
export function isWorkspaceQueue(taskQueue: string): boolean {
  return taskQueue.includes(WORKSPACE_QUEUE_MARK);
}

export const TASK_PHASES = [
  'planning',
  'decomposing',
  'coding',
  'testing',
  'review',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskPhase = (typeof TASK_PHASES)[number];
export const TERMINAL_PHASES: readonly TaskPhase[] = ['completed', 'failed', 'cancelled'];

/** Where the workflow stops and asks a human. */
export const CHECKPOINTS = ['plan', 'stuck', 'pr', 'budget'] as const;
export type CheckpointName = (typeof CHECKPOINTS)[number];

export const DEFAULT_MAX_ITERATIONS = 10;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 30 * 60 * 1000;
/** Same failure fingerprint this many iterations in a row means the task is stuck. */
export const STUCK_THRESHOLD = 3;

/** Per-task limits; reaching one pauses the task at the `budget` checkpoint. */
export interface TaskBudget {
  maxTotalTokens?: number;
  maxCostUsd?: number;
  /** Wall-clock limit from the start of the task, in milliseconds. */
  maxDurationMs?: number;
}

/** What a user asks for. Validated at every edge by `taskExecutionInputSchema`. */
export interface TaskExecutionInput {
  taskId: string;
  prompt: string;
  /** Local path or git URL of the repository to change. */
  repository: string;
  /** Base branch the pull request targets; empty means the repository's current branch. */
  branch: string;
  hitlEnabled: boolean;
  maxIterations?: number;
  /** How long each approval may wait before the task fails, in milliseconds. */
  approvalTimeoutMs?: number;
  budget?: TaskBudget;
  /** Set when a task is started again from a checkpoint of an earlier run (recovery, migration). */
  resumeFrom?: ResumeSeed;
  /** How code is written: one JSON list of edits per iteration (default), or a tool-calling session. */
  coder?: CoderMode;
  /** Agent coder: tool calls per iteration at most (default `DEFAULT_AGENT_MAX_STEPS`). */
  maxAgentSteps?: number;
}

export const CODER_MODES = ['one-shot', 'agent'] as const;
export type CoderMode = (typeof CODER_MODES)[number];

/** Tool calls per code iteration when the task does not say. */
export const DEFAULT_AGENT_MAX_STEPS = 60;

/** What a new run reuses from an earlier run's checkpoint. */
export interface ResumeSeed {
  fromWorkflowId: string;
  fromRunId?: string;
  checkpointId?: string;
  plan?: string;
  /** The plan was approved by a human: the new run does not ask again. */
  planApproved?: boolean;
  subtasks?: Subtask[];
  /** Last commit that passed the quality gates: the new run's code starts there. */
  commitSha?: string;
}

export interface Subtask {
  id: string;
  title: string;
  description: string;
  files?: string[];
}

/** Token usage of one or more LLM calls. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Only where the endpoint reports it (LiteLLM does). */
  costUsd?: number;
}

export const ZERO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

/** Sum of two usages; cost stays absent until some call reports one. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const sum: TokenUsage = {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
  if (a.costUsd !== undefined || b.costUsd !== undefined) sum.costUsd = (a.costUsd ?? 0) + (b.costUsd ?? 0);
  return sum;
}

/** A structured failure of one iteration, fed to the next `generateCode`. */
export interface TaskError {
  iteration: number;
  /** `execute`, a gate name (`typecheck`, `lint`, `test`, `build`) or `edit`. */
  tool: string;
  exitCode?: number;
  /** The first useful lines of output, not the whole log. */
  message: string;
  /** Normalised form (see fingerprint.ts); equal fingerprints mean "the same error". */
  fingerprint: string;
}

/** A failure as the tool that met it reports it (a gate, `execute`, `edit`), before the workflow numbers and fingerprints it. */
export type ToolFailure = Omit<TaskError, 'fingerprint' | 'iteration'>;

export interface ApprovalRequest {
  /** Unique per request: a decision answers one request only. */
  id: string;
  checkpoint: CheckpointName;
  /** What the human is asked to judge: the plan, the stuck error, the PR link. */
  context: string;
  requestedAt: string;
  /** When the wait ends and the task fails. */
  expiresAt: string;
}

/** A human's answer, sent by signal `humanApproval` or update `decide`. */
export interface ApprovalDecision {
  approved: boolean;
  /** When given, must match the pending checkpoint. */
  checkpoint?: CheckpointName;
  /** When given, must match the pending request id. */
  requestId?: string;
  reviewer?: string;
  comment?: string;
  /** cli, api, console, slack, webhook, temporal-cli... */
  channel?: string;
  /** Budget checkpoint only: the limits to continue with. */
  budget?: TaskBudget;
  /**
   * `pr` checkpoint only, with `approved: false` and a comment: the reviewer asks for changes, and
   * the task goes back to coding with the comment instead of failing (rules: `decisionProblem`).
   */
  revise?: boolean;
}

export interface ApprovalRecord {
  request: ApprovalRequest;
  decision: ApprovalDecision;
  decidedAt: string;
}

export interface PullRequestInfo {
  provider: string;
  id: string;
  number: number;
  url: string;
  title: string;
  baseBranch: string;
  headBranch: string;
  headSha: string;
  merged: boolean;
  stats?: { commits: number; filesChanged: number; insertions: number; deletions: number };
  /** Files it changes that decide how code is built, installed or checked (config, CI, lockfiles…), one line each. */
  sensitiveChanges?: string[];
}

export interface PhaseChange {
  phase: TaskPhase;
  at: string;
  /** The code iteration the phase belongs to (0 before coding starts). */
  attempt: number;
}

/** The `taskState` query result: everything a human or console needs to follow a task. */
/** A decision signal the task dropped, and why. */
export interface IgnoredDecision {
  at: string;
  reason: string;
}

export interface TaskExecutionState {
  taskId: string;
  repository: string;
  prompt: string;
  hitlEnabled: boolean;
  phase: TaskPhase;
  phaseHistory: PhaseChange[];
  plan?: string;
  /** A human approved the plan (HITL), in this run or the run it resumes. */
  planApproved?: boolean;
  subtasks?: Subtask[];
  /** Code iterations started so far. */
  attempts: number;
  maxIterations: number;
  errors: TaskError[];
  checkpointId?: string;
  pendingApproval?: ApprovalRequest;
  approvals: ApprovalRecord[];
  /** `humanApproval` signals the task could not use (malformed, stale, another checkpoint), the last few: a signal has no answer, so they are shown here. */
  ignoredDecisions?: IgnoredDecision[];
  baseBranch?: string;
  baseSha?: string;
  /** The shared git remote holding the task branch. */
  remote?: string;
  taskBranch?: string;
  headSha?: string;
  /** Last commit that passed every quality gate. */
  greenSha?: string;
  pullRequest?: PullRequestInfo;
  usage: TokenUsage;
  budget?: TaskBudget;
  /** Why the task failed or was cancelled. */
  failure?: string;
  /** Agent coder: the current coding session and its latest tool calls, as they happen. */
  session?: { workflowId: string; iteration: number; steps: AgentStep[] };
  /** How many times a reviewer sent the pull request back for changes (revise). */
  revisions?: number;
  startedAt: string;
  updatedAt: string;
}

/** The fields of a task's state a checkpoint keeps. */
export const CHECKPOINT_FIELDS = [
  'phase',
  'taskId',
  'prompt',
  'repository',
  'hitlEnabled',
  'maxIterations',
  'plan',
  'planApproved',
  'subtasks',
  'attempts',
  'baseBranch',
  'baseSha',
  'remote',
  'taskBranch',
  'headSha',
  'greenSha',
  'pullRequest',
  'usage',
  'budget',
  'failure',
] as const satisfies ReadonlyArray<keyof TaskExecutionState>;

/**
 * What a checkpoint keeps: enough to resume the task in a new run (plan, subtasks, commits,
 * usage, the last iteration's errors), not its whole history.
 */
export type CheckpointData = CheckpointedState & { lastErrors: TaskError[] };
export type CheckpointedState = Pick<TaskExecutionState, (typeof CHECKPOINT_FIELDS)[number]>;

/** The `checkpointStatus` query result (the design's shape, plus the pending request). */
export interface CheckpointStatus {
  currentPhase: TaskPhase;
  attempts: number;
  lastCheckpoint?: string;
  pendingApproval?: ApprovalRequest;
}

export interface TaskExecutionResult {
  taskId: string;
  status: 'completed';
  pullRequestUrl: string;
  pullRequest: PullRequestInfo;
  iterations: number;
  checkpointId?: string;
  usage: TokenUsage;
}
