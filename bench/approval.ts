/**
 * Approval latency: a human's decision (the `decide` update) sent → the task's next activity
 * started, from the server's event times. Each task is decided at `plan` and at `pr`, one task
 * at a time, and only once it is parked (its approval request sent, its workflow task done).
 */
import type { Client } from '@temporalio/client';
import type { CheckpointName } from '../src/domain/task';
import { taskQueues } from '../src/domain/task';
import { decideUpdate } from '../src/workflows/messages';
import { startTask, taskInput, waitFor, type TaskHandle } from '../test/helpers/workflow';
import { activitiesOf, LOCAL_ACTIVITY, EventType, eventId, eventMs, eventsOfType, historyOf, wallMs } from './history';
import { atMost, figure, type Section } from './report';
import { median, quantile } from './stats';

const CHECKPOINTS: CheckpointName[] = ['plan', 'pr'];
const WORKFLOW_TASK_EVENTS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

interface Sample {
  /** Decision sent → next activity started. */
  total: number;
  /** Decision sent → update accepted by the workflow (in a workflow task on the worker). */
  accepted: number;
}

/**
 * Resolves once the task has sent approval request number `count` and completed the workflow task
 * after it: the workflow then sleeps in its `condition`.
 */
async function parked(handle: TaskHandle, count: number): Promise<void> {
  await waitFor(
    async () => {
      const events = await historyOf(handle);
      const request = activitiesOf(events).filter((a) => a.type === 'requestHumanApproval')[count - 1];
      const lastWorkflowTask = events.findLast((e) => WORKFLOW_TASK_EVENTS.has(e.eventType!));
      if (request?.completedEventId === undefined || lastWorkflowTask?.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) return undefined;
      return eventId(lastWorkflowTask) > request.completedEventId ? true : undefined;
    },
    `approval request ${count} of task ${handle.workflowId}`,
    120_000,
  );
}

async function decideTask(client: Client, prefix: string): Promise<Sample[]> {
  const handle = await startTask(client, taskQueues(prefix).task, taskInput({ hitlEnabled: true }));
  const sentAt: number[] = [];
  for (const checkpoint of CHECKPOINTS) {
    await parked(handle, sentAt.length + 1);
    sentAt.push(wallMs());
    await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint, reviewer: 'bench' }] });
  }
  await handle.result();
  const events = await historyOf(handle);
  const activities = activitiesOf(events);
  return eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).map((accepted, i) => {
    // Local activities (the decision's own store write) have no start event: the next one that does.
    const next = activities.find((a) => a.taskQueue !== LOCAL_ACTIVITY && a.scheduledEventId > eventId(accepted));
    if (next?.startedAt === undefined) throw new Error(`No activity started after decision ${i + 1} of ${handle.workflowId}.`);
    return { total: next.startedAt - sentAt[i]!, accepted: eventMs(accepted) - sentAt[i]! };
  });
}

export async function measureApprovalLatency(client: Client, prefix: string, tasks: number): Promise<Section> {
  const samples: Sample[] = [];
  for (let i = 0; i < tasks; i++) samples.push(...(await decideTask(client, prefix)));
  const total = samples.map((s) => s.total);
  const accepted = samples.map((s) => s.accepted);
  return {
    name: `approval latency: decide update sent → next activity started (${samples.length} decisions, ${tasks} tasks × ${CHECKPOINTS.join(' + ')})`,
    figures: [
      figure('median', median(total), 'ms', atMost(100, ' ms')),
      figure('p95', quantile(total, 0.95), 'ms'),
      figure('of which sent → update accepted, median', median(accepted), 'ms'),
    ],
    notes: [],
  };
}
