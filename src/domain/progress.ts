/**
 * What a task is doing right now, between its phase changes: each long activity says what it is
 * doing in its heartbeat details, which the server keeps with the pending activity; clients read
 * them back (`TaskClient.report`) for `ado status`, `ado run --wait`, the API and the console.
 */

import { z } from 'zod';

/** The heartbeat details of a running activity: what it does now, and since when. */
export const activityProgressSchema = z.object({
  /** In words a user reads, e.g. "quality gates: test, lint running (1 of 3 done)". */
  doing: z.string(),
  /** ISO time at which it started doing it. */
  since: z.string(),
});
export type ActivityProgress = z.infer<typeof activityProgressSchema>;

/** A running activity of a task or of its coding session. */
export interface RunningActivity {
  /** The activity type, e.g. `runQualityGates`. */
  activity: string;
  attempt: number;
  /** ISO time of the current attempt's start; absent while it waits for a worker. */
  startedAt?: string;
  /** The last progress it reported, if any. */
  progress?: ActivityProgress;
}

/** Names of the activities that users see, for those that report no progress of their own. */
const ACTIVITY_WORDS: Record<string, string> = {
  prepareWorkspace: 'importing the repository',
  acquireWorkspace: 'preparing the workspace',
  planTask: 'waiting for the model (plan)',
  decomposeTask: 'waiting for the model (subtasks)',
  generateCode: 'waiting for the model (code)',
  executeCode: 'running the code',
  runQualityGates: 'quality gates',
  agentTurn: 'waiting for the model (agent turn)',
  agentToolCall: 'running a tool call',
  condenseConversation: 'waiting for the model (condensing the conversation)',
  createPullRequest: 'opening the pull request',
  mergePullRequest: 'merging the pull request',
  requestHumanApproval: 'notifying reviewers',
};

/** "quality gates: test running (0 of 1 done) for 12 s (attempt 2)": one line for a running activity. */
export function describeRunning(running: RunningActivity, now = Date.now()): string {
  const doing = running.progress?.doing ?? ACTIVITY_WORDS[running.activity] ?? running.activity;
  const since = running.progress?.since ?? running.startedAt;
  const parts = [doing];
  if (!running.startedAt) parts.push(running.attempt > 1 ? '(waiting to be retried)' : '(waiting for a worker)');
  else if (since) parts.push(`for ${Math.max(0, Math.round((now - Date.parse(since)) / 1000))} s`);
  if (running.attempt > 1 && running.startedAt) parts.push(`(attempt ${running.attempt})`);
  return parts.join(' ');
}

/** What a watcher compares to tell that what runs now changed: each activity, its attempt and what it says it does. */
export function progressKey(running: readonly RunningActivity[]): string {
  return JSON.stringify(running.map((r) => [r.activity, r.attempt, r.progress?.doing]));
}
