/**
 * Which worker pool (task queue) runs each activity. The workflow sends an activity to its
 * interface's queue (src/workflows/task-execution.workflow.ts), and the worker registers on each
 * queue the activities listed here for its pool.
 */
import type { WorkerPool } from '../domain/task';
import type { ActivityName, CodeActivities, ReviewActivities, TaskActivities, WorkspaceActivities } from './interfaces';

/** Every activity, in the pool of the interface that declares it: nothing missing, nothing extra. */
export type ActivityPoolMap = { readonly [K in keyof TaskActivities]: 'task' } & { readonly [K in keyof CodeActivities]: 'code' } & {
  readonly [K in keyof ReviewActivities]: 'review';
};

/** An activity missing here is a type error, not an activity no worker registers. */
export const ACTIVITY_POOLS = {
  planTask: 'task',
  decomposeTask: 'task',
  requestHumanApproval: 'task',
  recordApprovalDecision: 'task',
  saveCheckpoint: 'task',
  notifyTaskOutcome: 'task',
  prepareWorkspace: 'code',
  acquireWorkspace: 'code',
  releaseWorkspace: 'code',
  generateCode: 'code',
  executeCode: 'code',
  agentTurn: 'code',
  agentToolCall: 'code',
  condenseConversation: 'code',
  runQualityGates: 'review',
  createPullRequest: 'review',
  mergePullRequest: 'review',
} as const satisfies ActivityPoolMap;

/** The activities `pool` registers. */
export function activitiesOf(pool: WorkerPool): ActivityName[] {
  return (Object.keys(ACTIVITY_POOLS) as ActivityName[]).filter((name) => ACTIVITY_POOLS[name] === pool);
}

/** One entry per workspace activity: a missing one is a type error. */
const ON_WORKSPACE = { generateCode: true, executeCode: true, runQualityGates: true, agentToolCall: true, releaseWorkspace: true } as const satisfies Record<
  keyof WorkspaceActivities,
  true
>;

/**
 * What a worker registers on its workspace queue (`workspaceQueue` in domain/task.ts): the
 * activities that use the task's tree (`WorkspaceActivities`).
 */
export const WORKSPACE_ACTIVITIES = Object.keys(ON_WORKSPACE) as ReadonlyArray<keyof WorkspaceActivities>;
