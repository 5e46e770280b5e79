/**
 * `WorkflowRecovery` (the design's name, docs/architecture.md): bring a task back after it failed or was stopped, and move a
 * task to a new workflow version, from its checkpoints in the ADO store.
 *
 * Resuming prefers Temporal's own reset to the last good point of the failed run (the workflow id
 * stays, every step before that point is kept, nothing finished runs again); where that is not
 * possible (history gone, or asked for) it starts a new run seeded from the latest checkpoint:
 * the approved plan is reused and the code starts from the last green commit.
 */
import { randomUUID } from 'node:crypto';
import Long from 'long';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { Checkpoint, CheckpointService, RunLinkRepository } from '../store/types';
import type { CheckpointedState, ResumeSeed, TaskExecutionInput } from '../domain/task';
import { taskStateQuery } from '../workflows/messages';
import { RecoveryError } from './errors';
import { TaskClient } from './task-client';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export type ResumeStrategy = 'auto' | 'reset' | 'new-run';

export type ResumeOutcome =
  | { action: 'running'; workflowId: string; runId: string; phase: string; message: string }
  | { action: 'completed'; workflowId: string; runId: string; message: string }
  | { action: 'reset'; workflowId: string; fromRunId: string; runId: string; resetEventId: number; message: string }
  | { action: 'new-run'; workflowId: string; fromRunId?: string; runId: string; checkpointId: string; message: string };

export interface RecoveryStore {
  checkpoints: Pick<CheckpointService, 'getLatest'>;
  runLinks: Pick<RunLinkRepository, 'add'>;
}

export class WorkflowRecovery {
  private readonly tasks: TaskClient;

  constructor(
    private readonly client: Client,
    private readonly store: RecoveryStore,
    queuePrefix = '',
  ) {
    this.tasks = new TaskClient(client, queuePrefix);
  }

  /** Resumes `taskId` from its latest checkpoint; says what it did. */
  async resumeFromCheckpoint(taskId: string, options: { strategy?: ResumeStrategy } = {}): Promise<ResumeOutcome> {
    const strategy = options.strategy ?? 'auto';
    const checkpoint = await this.store.checkpoints.getLatest(taskId);
    if (!checkpoint) {
      throw new RecoveryError(`No checkpoint found for task ${taskId}: it never got past its start. Start it again with \`ado run\`.`);
    }
    const handle = this.client.workflow.getHandle(checkpoint.workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      if (strategy === 'reset') throw new RecoveryError(`The history of ${checkpoint.workflowId} is gone (retention); resume with --strategy new-run.`);
      return this.newRun(checkpoint, undefined, 'its history is no longer on the server');
    }
    const { runId } = description;
    const status = description.status.name;
    if (status === 'RUNNING') {
      const state = await handle.query(taskStateQuery);
      const waiting = state.pendingApproval ? `, waiting for approval at "${state.pendingApproval.checkpoint}"` : '';
      return { action: 'running', workflowId: checkpoint.workflowId, runId, phase: state.phase, message: `Task ${taskId} is running (phase ${state.phase}${waiting}); nothing to resume.` };
    }
    if (status === 'COMPLETED') {
      return { action: 'completed', workflowId: checkpoint.workflowId, runId, message: `Task ${taskId} has completed; nothing to resume.` };
    }
    if (strategy !== 'new-run') {
      const history = await handle.fetchHistory();
      const point = resetPoint(history.events ?? []);
      if (point !== undefined) return this.reset(checkpoint, runId, point, status);
      if (strategy === 'reset') throw new RecoveryError(`Run ${runId} of ${checkpoint.workflowId} has no point to reset to; resume with --strategy new-run.`);
    }
    return this.newRun(checkpoint, runId, `the last run ended ${status.toLowerCase()}`);
  }

  /**
   * The design's migration: reads the task's state, cancels the running workflow, and starts the
   * new version with the migrated state (plan, subtasks, last green commit) under a new workflow
   * id, linking both runs. Returns the new workflow id.
   */
  async migrateWorkflow(oldWorkflowId: string, newWorkflowVersion: string): Promise<string> {
    const oldHandle = this.client.workflow.getHandle(oldWorkflowId);
    const state = await this.tasks.withTask(oldWorkflowId, () => oldHandle.query(taskStateQuery));
    const { runId, status } = await oldHandle.describe();
    if (status.name === 'RUNNING') {
      await oldHandle.cancel();
      await oldHandle.result().catch(() => undefined); // ends cancelled: that is the point
    }
    const workflowId = `${state.taskId}-migrated-${newWorkflowVersion}`;
    const started = await this.tasks.start(
      { ...inputFrom(state), resumeFrom: seedFrom(state, { fromWorkflowId: oldWorkflowId, fromRunId: runId }) },
      { workflowId, version: newWorkflowVersion },
    );
    await this.store.runLinks.add({
      fromWorkflowId: oldWorkflowId,
      fromRunId: runId,
      toWorkflowId: workflowId,
      toRunId: started.runId,
      reason: 'migrate',
      version: newWorkflowVersion,
    });
    return workflowId;
  }

  private async reset(checkpoint: Checkpoint, runId: string, eventId: number, status: string): Promise<ResumeOutcome> {
    const { namespace } = this.client.options;
    const response = await this.client.workflowService.resetWorkflowExecution({
      namespace,
      workflowExecution: { workflowId: checkpoint.workflowId, runId },
      reason: `ado resume: the run ended ${status.toLowerCase()}`,
      workflowTaskFinishEventId: Long.fromNumber(eventId),
      requestId: randomUUID(),
    });
    const newRunId = response.runId ?? '';
    await this.store.runLinks.add({ fromWorkflowId: checkpoint.workflowId, fromRunId: runId, toWorkflowId: checkpoint.workflowId, toRunId: newRunId, reason: 'reset' });
    return {
      action: 'reset',
      workflowId: checkpoint.workflowId,
      fromRunId: runId,
      runId: newRunId,
      resetEventId: eventId,
      message: `Reset ${checkpoint.workflowId} to event ${eventId} of run ${runId} (the last good point before it ended ${status.toLowerCase()}); run ${newRunId} goes on from there.`,
    };
  }

  private async newRun(checkpoint: Checkpoint, fromRunId: string | undefined, why: string): Promise<ResumeOutcome> {
    // The run's own final state when a worker can still answer for it; else the checkpoint.
    const state = fromRunId ? await this.tasks.state(checkpoint.workflowId).catch(() => undefined) : undefined;
    const task = state ?? checkpoint.data;
    const seed = seedFrom(task, { fromWorkflowId: checkpoint.workflowId, fromRunId: fromRunId ?? checkpoint.runId, checkpointId: checkpoint.id });
    const started = await this.tasks.start({ ...inputFrom(task), resumeFrom: seed }, { workflowId: checkpoint.workflowId, resume: true });
    await this.store.runLinks.add({ fromWorkflowId: checkpoint.workflowId, fromRunId, toWorkflowId: started.workflowId, toRunId: started.runId, reason: 'resume' });
    return {
      action: 'new-run',
      workflowId: started.workflowId,
      fromRunId,
      runId: started.runId,
      checkpointId: checkpoint.id,
      message: `Started run ${started.runId} of ${started.workflowId} from checkpoint ${checkpoint.id} (${checkpoint.phase}), because ${why}: ${describeSeed(seed)}.`,
    };
  }
}

/**
 * The last good point of a closed run: the workflow task that scheduled the activity whose
 * failure ended it, or else the last completed workflow task before the run was stopped.
 */
export function resetPoint(events: readonly HistoryEvent[]): number | undefined {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (failed) {
      const scheduled = byId.get(Number(failed.scheduledEventId))?.activityTaskScheduledEventAttributes;
      if (scheduled?.workflowTaskCompletedEventId) return Number(scheduled.workflowTaskCompletedEventId);
    }
  }
  const stop = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes || e.workflowExecutionTerminatedEventAttributes);
  const before = stop === -1 ? events : events.slice(0, stop);
  const last = [...before].reverse().find((e) => e.workflowTaskCompletedEventAttributes);
  return last ? Number(last.eventId) : undefined;
}

/** What a task was started with, from its state or checkpoint (both carry these fields). */
function inputFrom(task: CheckpointedState): Omit<TaskExecutionInput, 'resumeFrom'> {
  return {
    taskId: task.taskId,
    prompt: task.prompt,
    repository: task.repository,
    branch: task.baseBranch ?? '',
    hitlEnabled: task.hitlEnabled,
    maxIterations: task.maxIterations,
    budget: task.budget,
  };
}

/** What a new run reuses: the plan (and whether it was approved), the subtasks, the last green commit. */
function seedFrom(task: CheckpointedState, from: { fromWorkflowId: string; fromRunId?: string; checkpointId?: string }): ResumeSeed {
  return { ...from, plan: task.plan, planApproved: task.planApproved, subtasks: task.subtasks, commitSha: task.greenSha };
}

function describeSeed(seed: ResumeSeed): string {
  const parts = [seed.plan ? `plan reused${seed.planApproved ? ' (approved)' : ''}` : 'planning again'];
  parts.push(seed.commitSha ? `code from green commit ${seed.commitSha.slice(0, 10)}` : 'code from the base branch');
  return parts.join(', ');
}
