/**
 * The activities the task workflow calls, by worker pool. Types only: the workflow imports this
 * file with `import type`, and each pool's factory implements its interface.
 */
import type { ContextFill } from '../domain/agent-context';
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import type { QualityGatesResult } from '../domain/quality-gates';
import type { RepoRef } from '../domain/repo-ref';
import type {
  ApprovalDecision,
  ApprovalRequest,
  CheckpointData,
  PullRequestInfo,
  Subtask,
  TaskError,
  ToolFailure,
  TaskPhase,
  TokenUsage,
} from '../domain/task';
import type { OpenPullRequestInput } from '../pr/provider';

export interface PrepareWorkspaceInput {
  taskId: string;
  repository: string;
  /** Base branch; empty means the repository's current branch. */
  branch: string;
  /** Start from this commit instead of the branch head (a resumed task's last green commit). */
  startSha?: string;
}

export interface PreparedWorkspace {
  repo: RepoRef;
  baseBranch: string;
  baseSha: string;
  /** `ado/<taskId>`: every iteration commits here. */
  taskBranch: string;
}

export interface AcquireWorkspaceInput {
  taskId: string;
  /** The task branch's last pushed commit: the tree starts there. */
  repo: RepoRef;
  /** The task's base commit, whose repository config (its `setup`) applies. */
  baseSha: string;
}

export interface AcquiredWorkspace {
  /** The task queue of the worker holding the workspace: send the task's tree work there. */
  taskQueue: string;
  /** What `setup` did while acquiring: ran and passed, ran and failed (the gates report it), or none configured. */
  setup: 'passed' | 'failed' | 'none';
}

export interface ReleaseWorkspaceInput {
  taskId: string;
}

export interface PlanTaskInput {
  taskId: string;
  prompt: string;
  repo: RepoRef;
}

export interface PlanResult {
  content: string;
  usage: TokenUsage;
}

export interface DecomposeTaskInput {
  taskId: string;
  prompt: string;
  plan: string;
  repo: RepoRef;
}

export interface DecomposeResult {
  subtasks: Subtask[];
  usage: TokenUsage;
}

export interface GenerateCodeInput {
  taskId: string;
  prompt: string;
  plan: string;
  subtasks: Subtask[];
  /** The structured failures of the previous iteration. */
  previousErrors: TaskError[];
  /** What reviewers said with their decisions, oldest first (absent in activities scheduled by older workflow code). */
  guidance?: string[];
  iteration: number;
  repo: RepoRef;
  taskBranch: string;
}

export interface GenerateCodeResult {
  /** The new head of the task branch (unchanged when no edit applied). */
  sha: string;
  summary: string;
  filesChanged: string[];
  /** Edits that did not apply, as errors for the next iteration. */
  editErrors: ToolFailure[];
  usage: TokenUsage;
}

export interface ExecuteCodeInput {
  taskId: string;
  repo: RepoRef;
  /**
   * The task's base commit, whose repository config (commands, limits, network) applies; absent
   * in activities scheduled by older workflow code (then found from the task's own commits).
   */
  baseSha?: string;
}

export interface ExecutionResult {
  success: boolean;
  /** True when the repository names no `execute` command. */
  skipped: boolean;
  error?: ToolFailure;
  durationMs: number;
}

export interface QualityGatesInput {
  taskId: string;
  repo: RepoRef;
  /** As `ExecuteCodeInput.baseSha`. */
  baseSha?: string;
}

/** The pull-request provider's input, passed through as it is. */
export type CreatePullRequestInput = OpenPullRequestInput;

export interface MergePullRequestInput {
  taskId: string;
  repo: RepoRef;
  pullRequest: PullRequestInfo;
}

export interface DecisionRecord {
  taskId: string;
  workflowId: string;
  request: ApprovalRequest;
  decision: ApprovalDecision;
  decidedAt: string;
}

export interface SaveCheckpointInput {
  taskId: string;
  workflowId: string;
  runId: string;
  phase: TaskPhase;
  data: CheckpointData;
}

/** The opening of a coding session: what the first model turn is told. */
export interface AgentBrief {
  prompt: string;
  plan: string;
  /** Subtasks as "title: description". */
  subtasks: string[];
  /** The previous iteration's failures, and a reviewer's comment, to address first. */
  feedback: string[];
}

export interface AgentTurnInput {
  taskId: string;
  /** The session's workflow id: the prefix of every key it stores. */
  sessionId: string;
  iteration: number;
  /** 1-based within the session. */
  turn: number;
  /** The conversation after the previous turn; absent on the first turn (the brief opens it). */
  conversationKey?: string;
  brief?: AgentBrief;
  /** What answers the previous turn's calls, in order: a stored observation, or a short text (format errors). */
  results: AgentCallResult[];
  /** A reviewer's words given with a decision since the previous turn, for the model to read next. */
  guidance?: string[];
  /**
   * The session condenses the conversation itself (`condenseConversation`), so the turn does not.
   * Absent in sessions from before that activity: their turns condense inline.
   */
  workflowCondenses?: boolean;
}

export interface AgentCallResult {
  callId: string;
  step?: number;
  /** Claim check of the observation in the store. */
  key?: string;
  text?: string;
}

/** One call of a model turn, as the workflow needs it (its arguments stay in the stored conversation). */
export interface AgentCallSummary {
  callId: string;
  ok: boolean;
  tool: string;
  /** The main argument, shortened (for `ado status`). */
  argument: string;
  /** Why the call cannot be used (malformed), for the model. */
  error?: string;
}

export interface AgentTurnResult {
  conversationKey: string;
  calls: AgentCallSummary[];
  usage: TokenUsage;
  /** The conversation was condensed before this turn (inline: sessions from before `condenseConversation`). */
  condensed: boolean;
  /** How full the stored conversation is: the session condenses it before the next turn when it nears the window. */
  context?: ContextFill;
}

/** A conversation to condense before turn `turn`. */
export interface CondenseInput {
  taskId: string;
  sessionId: string;
  iteration: number;
  /** The turn the condensed conversation is for (the next one): it names the stored summary and conversation. */
  turn: number;
  conversationKey: string;
}

export interface CondenseResult {
  /** The conversation the next turn continues (unchanged when there was nothing old enough to summarise). */
  conversationKey: string;
  /** Claim check of the summary; absent when nothing was summarised. */
  summaryKey?: string;
  usage: TokenUsage;
  /** Tokens of the conversation before and after. */
  tokens: { before: number; after: number };
}

export interface AgentToolInput {
  taskId: string;
  sessionId: string;
  step: number;
  conversationKey: string;
  callId: string;
  /** The task branch's head: where the tool runs, and what an edit commits on. */
  repo: RepoRef;
  baseSha: string;
  taskBranch: string;
}

export interface AgentToolResult {
  /** The task branch's head after the call (a new commit after an edit). */
  sha: string;
  ok: boolean;
  /** Claim check of the observation. */
  observationKey: string;
  /** Hashes for the stuck rules. */
  actionHash: string;
  observationHash: string;
  durationMs: number;
  /** `finish` with passing gates. */
  finished?: { summary: string };
}

/** `ado-tasks`: planning, decomposition, approvals, checkpoints. (Plain functions: activities carry no `this`.) */
export interface TaskActivities {
  planTask: (input: PlanTaskInput) => Promise<PlanResult>;
  decomposeTask: (input: DecomposeTaskInput) => Promise<DecomposeResult>;
  requestHumanApproval: (input: ApprovalNotice) => Promise<void>;
  recordApprovalDecision: (input: DecisionRecord) => Promise<void>;
  saveCheckpoint: (input: SaveCheckpointInput) => Promise<string>;
  notifyTaskOutcome: (input: TaskOutcomeNotice) => Promise<void>;
}

/** `ado-code`: workspace, code generation, sandboxed execution. */
export interface CodeActivities {
  prepareWorkspace: (input: PrepareWorkspaceInput) => Promise<PreparedWorkspace>;
  /** Checks out the task's tree on this worker and runs `setup` there; later tree work goes to the queue it returns. */
  acquireWorkspace: (input: AcquireWorkspaceInput) => Promise<AcquiredWorkspace>;
  /** Removes the task's warm workspace (sent to the queue of the worker holding it). */
  releaseWorkspace: (input: ReleaseWorkspaceInput) => Promise<void>;
  generateCode: (input: GenerateCodeInput) => Promise<GenerateCodeResult>;
  executeCode: (input: ExecuteCodeInput) => Promise<ExecutionResult>;
  /** One model turn of a coding session (the agent coder). */
  agentTurn: (input: AgentTurnInput) => Promise<AgentTurnResult>;
  /** One tool call of a coding session, against the task branch's head (on the task's warm workspace when on its queue). */
  agentToolCall: (input: AgentToolInput) => Promise<AgentToolResult>;
  /** Replaces the older part of a session's conversation with a summary the model writes. */
  condenseConversation: (input: CondenseInput) => Promise<CondenseResult>;
}

/** `ado-review`: quality gates and pull requests. */
export interface ReviewActivities {
  runQualityGates: (input: QualityGatesInput) => Promise<QualityGatesResult>;
  createPullRequest: (input: CreatePullRequestInput) => Promise<PullRequestInfo>;
  mergePullRequest: (input: MergePullRequestInput) => Promise<PullRequestInfo>;
}

export type AdoActivities = TaskActivities & CodeActivities & ReviewActivities;

/**
 * The activities that work on the task's tree and run on the queue of the worker holding its warm
 * workspace (`WORKSPACE_ACTIVITIES` in pools.ts lists them for the worker).
 */
export type WorkspaceActivities = Pick<AdoActivities, 'generateCode' | 'executeCode' | 'runQualityGates' | 'agentToolCall' | 'releaseWorkspace'>;
export type ActivityName = keyof AdoActivities;
