/**
 * The store's tables as Kysely sees them: column names as in SQL (snake_case), one interface per
 * table. Repositories map rows to the domain types of types.ts.
 */
import type { ColumnType, Generated, GeneratedAlways, JSONColumnType } from 'kysely';
import type { TaskPhase } from '../domain/task';
import type { Checkpoint, PullRequestRecord, RunLink } from './types';

/** A timestamp the database fills in (`now()`) unless given. */
type DefaultNow = ColumnType<Date, Date | undefined, Date>;

export interface TasksTable {
  task_id: string;
  workflow_id: string;
  run_id: string | null;
  repository: string;
  prompt: string;
  phase: TaskPhase;
  hitl_enabled: boolean;
  created_at: DefaultNow;
  updated_at: DefaultNow;
}

export interface CheckpointsTable {
  id: Generated<string>;
  /** Insertion order: breaks ties between checkpoints with the same timestamp. */
  seq: GeneratedAlways<string>;
  task_id: string;
  workflow_id: string;
  run_id: string;
  phase: TaskPhase;
  timestamp: Date;
  /** Written as JSON text, read back parsed. */
  data: JSONColumnType<Checkpoint['data']>;
}

export interface ApprovalsTable {
  request_id: string;
  task_id: string;
  workflow_id: string;
  checkpoint: string;
  approved: boolean;
  reviewer: string | null;
  comment: string | null;
  channel: string | null;
  context: string;
  requested_at: Date;
  decided_at: Date;
  recorded_at: DefaultNow;
}

export interface PullRequestsTable {
  id: Generated<string>;
  task_id: string;
  repository: string;
  remote: string;
  number: number;
  provider: string;
  url: string;
  title: string;
  description: string;
  base_branch: string;
  head_branch: string;
  head_sha: string;
  state: PullRequestRecord['state'];
  /** Written as JSON text (or null), read back parsed. */
  stats: ColumnType<NonNullable<PullRequestRecord['stats']> | null, string | null, string | null>;
  created_at: DefaultNow;
  merged_at: Date | null;
  merge_sha: string | null;
}

/** The last PR number handed out per remote (numbers start at 1 in every remote). */
export interface PullRequestNumbersTable {
  remote: string;
  last_number: number;
}

export interface RunLinksTable {
  id: GeneratedAlways<string>;
  from_workflow_id: string;
  from_run_id: string | null;
  to_workflow_id: string;
  to_run_id: string | null;
  reason: RunLink['reason'];
  version: string | null;
  created_at: DefaultNow;
}

/** Signed requests already accepted (replay protection), kept until their signature goes stale. */
export interface UsedSignaturesTable {
  signature: string;
  expires_at: Date;
}

/** A coding session's bulky data by key: conversations, model answers, tool observations. */
export interface AgentBlobsTable {
  key: string;
  task_id: string;
  content: string;
  created_at: DefaultNow;
}

export interface StoreDatabase {
  tasks: TasksTable;
  checkpoints: CheckpointsTable;
  approvals: ApprovalsTable;
  pull_requests: PullRequestsTable;
  pull_request_numbers: PullRequestNumbersTable;
  run_links: RunLinksTable;
  used_signatures: UsedSignaturesTable;
  agent_blobs: AgentBlobsTable;
}
