/**
 * The ADO store: tasks, checkpoints, the approvals audit, local pull requests and the links
 * between runs. One schema and one query layer over PGlite (embedded) or a PostgreSQL server.
 */
import type { CheckpointData, PullRequestInfo, TaskPhase } from '../domain/task';

/** A checkpoint: the task's state at a phase change, enough to resume from. */
export interface Checkpoint {
  id: string;
  taskId: string;
  workflowId: string;
  runId: string;
  phase: TaskPhase;
  timestamp: Date;
  data: CheckpointData;
}

/** Where checkpoints are kept (the design's `CheckpointService`, docs/architecture.md). */
export interface CheckpointService {
  /**
   * Saves a checkpoint and returns its id. With an `id` given (an activity's retry-stable key),
   * saving the same checkpoint again changes nothing.
   */
  save(checkpoint: Omit<Checkpoint, 'id'> & { id?: string }): Promise<string>;
  restore(checkpointId: string): Promise<Checkpoint>;
  getLatest(taskId: string): Promise<Checkpoint | null>;
  list(taskId: string): Promise<Checkpoint[]>;
}

export interface TaskRecord {
  taskId: string;
  workflowId: string;
  runId?: string;
  repository: string;
  prompt: string;
  phase: TaskPhase;
  hitlEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface TaskFilter {
  phase?: TaskPhase;
  repository?: string;
  limit?: number;
}

export interface TaskRepository {
  /** Insert or update by task id. */
  upsert(task: Omit<TaskRecord, 'createdAt' | 'updatedAt'>): Promise<void>;
  get(taskId: string): Promise<TaskRecord | null>;
  /** The tasks of `taskIds` the store has, in one query (in no particular order; unknown ids are left out). */
  getMany(taskIds: readonly string[]): Promise<TaskRecord[]>;
  list(filter?: TaskFilter): Promise<TaskRecord[]>;
}

/** One row of the approvals audit. */
export interface ApprovalRow {
  /** The approval request id (unique: a decision is recorded once). */
  requestId: string;
  taskId: string;
  workflowId: string;
  checkpoint: string;
  approved: boolean;
  reviewer?: string;
  comment?: string;
  channel?: string;
  context: string;
  requestedAt: Date;
  decidedAt: Date;
}

export interface ApprovalRepository {
  /** Records a decision; a second record for the same request id changes nothing and returns false. */
  record(row: ApprovalRow): Promise<boolean>;
  listForTask(taskId: string): Promise<ApprovalRow[]>;
}

export interface PullRequestRecord extends PullRequestInfo {
  taskId: string;
  repository: string;
  remote: string;
  description: string;
  state: 'open' | 'merged' | 'closed';
  createdAt: Date;
  mergedAt?: Date;
  mergeSha?: string;
}

export interface PullRequestRepository {
  /** The open or merged PR of `headBranch` in `remote`, if one exists (idempotent PR creation). */
  findByHead(remote: string, headBranch: string): Promise<PullRequestRecord | null>;
  /** Inserts; when one already exists for (remote, headBranch), returns that one instead. */
  create(pr: Omit<PullRequestRecord, 'id' | 'number' | 'createdAt' | 'url'> & { url?: string }): Promise<PullRequestRecord>;
  markMerged(id: string, mergeSha: string): Promise<PullRequestRecord>;
  /** Points an open PR at a new head commit (a revision pushed after review); null when it is not open. */
  updateHead(id: string, headSha: string, stats: PullRequestRecord['stats']): Promise<PullRequestRecord | null>;
  get(id: string): Promise<PullRequestRecord | null>;
  listForTask(taskId: string): Promise<PullRequestRecord[]>;
}

/** A run that replaced another (recovery, migration). */
export interface RunLink {
  fromWorkflowId: string;
  fromRunId?: string;
  toWorkflowId: string;
  toRunId?: string;
  reason: 'resume' | 'reset' | 'migrate';
  version?: string;
  createdAt: Date;
}

export interface RunLinkRepository {
  add(link: Omit<RunLink, 'createdAt'>): Promise<void>;
  forTask(workflowId: string): Promise<RunLink[]>;
}

/**
 * Signed requests (Slack clicks, webhook decisions) already accepted, kept in the store so that a
 * replay is refused by every API server and after a restart too.
 */
export interface UsedSignatureRepository {
  /**
   * True the first time `signature` is offered (it is then kept until `expiresAt`), false for a
   * replay. Forgets signatures whose time has passed.
   */
  firstUse(signature: string, expiresAt: Date): Promise<boolean>;
}

/**
 * Claim checks for coding sessions: what is too big for workflow history, stored under a key the
 * history carries. Keys name what they hold (session, turn, step), so a retried activity writes
 * the same key again, and the first value written stays.
 */
export interface AgentBlobRepository {
  /** Stores `content` under `key` unless the key holds something already; returns what the key holds. */
  putOnce(key: string, taskId: string, content: string): Promise<string>;
  get(key: string): Promise<string | undefined>;
}

export interface AdoStore {
  readonly driver: 'pglite' | 'postgres';
  readonly checkpoints: CheckpointService;
  readonly tasks: TaskRepository;
  readonly approvals: ApprovalRepository;
  readonly pullRequests: PullRequestRepository;
  readonly runLinks: RunLinkRepository;
  readonly usedSignatures: UsedSignatureRepository;
  readonly agentBlobs: AgentBlobRepository;
  close(): Promise<void>;
}
