/**
 * Starting, finding and following tasks: the library under the CLI and the HTTP API.
 */
import { randomBytes } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { AgentStep } from '../domain/agent-tools';
import { AdoError, describeFailure } from '../domain/errors';
import { activityProgressSchema, progressKey, type RunningActivity } from '../domain/progress';
import { AdoPhase, AdoRepository, taskWorkflowFilter, WorkflowVersion } from '../domain/search-attributes';
import { TERMINAL_PHASES, taskQueues, type ApprovalRequest, type PhaseChange, type TaskExecutionInput, type TaskExecutionResult, type TaskExecutionState, type TaskPhase } from '../domain/task';
import { describeIssues, newTaskInputSchema } from '../domain/task-input';
import { taskStateQuery } from '../workflows/messages';
import { taskExecutionWorkflow } from '../workflows/task-execution.workflow';
import { DecisionRejectedError, InvalidTaskInputError, TaskAlreadyExistsError, TaskNotFoundError } from './errors';
import { changesBetween, newSessionSteps } from './task-changes';

export type TaskHandle = WorkflowHandle<typeof taskExecutionWorkflow>;

/** Activities a follower sees through the agent's steps (`FollowEvent` `step`), not as progress. */
const STEP_ACTIVITIES: ReadonlySet<string> = new Set(['agentTurn', 'agentToolCall']);

/** A new task id: short, readable, valid as a workflow id and in a branch name. */
export function newTaskId(): string {
  return `task-${randomBytes(4).toString('hex')}`;
}

export interface StartedTask {
  taskId: string;
  workflowId: string;
  runId: string;
}

export interface TaskSummary {
  taskId: string;
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT… */
  status: string;
  phase?: string;
  repository?: string;
  startTime: Date;
  closeTime?: Date;
}

/**
 * What `ado status` shows: the task's own state when a worker answered in time, and always what
 * the server knows, with the problems that explain a missing answer and what to do about them.
 */
export interface TaskReport {
  taskId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED… */
  status: string;
  /** The `AdoPhase` search attribute (kept current by the workflow). */
  phase?: string;
  repository?: string;
  startTime: Date;
  closeTime?: Date;
  /** The `taskState` query's answer; undefined when no worker gave one in time. */
  state?: TaskExecutionState;
  /** What runs now: the task's pending activities and its coding session's, with their progress. */
  running: RunningActivity[];
  /** Why the state is missing or the task does not move, each with what to do. */
  problems: string[];
}

/** What `follow` reports while a task runs. */
export type FollowEvent =
  | { type: 'phase'; change: PhaseChange; state: TaskExecutionState }
  | { type: 'approval'; request: ApprovalRequest; state: TaskExecutionState }
  /** A finished tool call of the agent coder's session (`state.session` says which iteration). */
  | { type: 'step'; step: AgentStep; state: TaskExecutionState }
  /** What runs now changed (another activity, or another thing it reports doing). */
  | { type: 'progress'; running: RunningActivity[] };

/** How a finished task ended, in words a human reads at the end of `ado run --wait`. */
export interface TaskOutcome {
  ok: boolean;
  phase: TaskPhase | 'terminated' | 'timed out';
  message: string;
  result?: TaskExecutionResult;
}

export class TaskClient {
  constructor(
    readonly client: Client,
    /** The deployment's task queue prefix: where this client starts tasks. */
    readonly queuePrefix = '',
  ) {}

  get namespace(): string {
    return this.client.options.namespace;
  }

  /**
   * Validates `input` and starts the task; nothing starts when the input is invalid. A task id
   * names one task forever: an id already used, running or ended, is refused
   * (`TaskAlreadyExistsError`), unless `resume` is set, which starts a new run of a task whose
   * last run failed, was cancelled, terminated or timed out (never of a completed one).
   */
  async start(
    input: Omit<TaskExecutionInput, 'taskId'> & { taskId?: string },
    options: { workflowId?: string; version?: string; resume?: boolean } = {},
  ): Promise<StartedTask> {
    const candidate = { ...input, taskId: input.taskId ?? newTaskId() };
    const parsed = newTaskInputSchema.safeParse(candidate);
    if (!parsed.success) throw new InvalidTaskInputError(describeIssues(parsed.error));
    const workflowId = options.workflowId ?? parsed.data.taskId;
    try {
      const handle = await this.client.workflow.start(taskExecutionWorkflow, {
        taskQueue: taskQueues(this.queuePrefix).task,
        workflowId,
        workflowIdReusePolicy: options.resume ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        args: [parsed.data],
        typedSearchAttributes: [
          { key: AdoPhase, value: 'planning' },
          { key: AdoRepository, value: parsed.data.repository },
          ...(options.version ? [{ key: WorkflowVersion, value: options.version }] : []),
        ],
      });
      return { taskId: parsed.data.taskId, workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const ended = await this.handle(workflowId)
        .describe()
        .then((info) => (info.status.name === 'RUNNING' ? undefined : info.status.name))
        .catch(() => undefined);
      throw new TaskAlreadyExistsError(workflowId, ended, { cause: err });
    }
  }

  handle(taskId: string): TaskHandle {
    return this.client.workflow.getHandle<typeof taskExecutionWorkflow>(taskId);
  }

  /** The `taskState` query; works for running and finished tasks. */
  async state(taskId: string): Promise<TaskExecutionState> {
    return this.withTask(taskId, () => this.handle(taskId).query(taskStateQuery));
  }

  /**
   * The task as `ado status` shows it, within about `queryTimeoutMs`: the server's description
   * (status, phase, repository) always; the `taskState` query when a worker answers in time; and
   * when none does, why — no worker polls the task's queue, or the worker cannot read the task's
   * payloads (another encryption key), or its workflow task keeps failing.
   */
  async report(taskId: string, queryTimeoutMs = 1500): Promise<TaskReport> {
    const handle = this.handle(taskId);
    let info: WorkflowExecutionDescription;
    try {
      info = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new TaskNotFoundError(taskId, this.namespace, { cause: err });
      throw err;
    }
    const report: TaskReport = {
      taskId,
      status: info.status.name,
      phase: info.typedSearchAttributes.get(AdoPhase),
      repository: info.typedSearchAttributes.get(AdoRepository),
      startTime: info.startTime,
      closeTime: info.closeTime,
      running: await this.running(info),
      problems: [],
    };
    let error: unknown;
    try {
      // A deadline, not a race: an abandoned query would retry on a closed connection.
      return { ...report, state: await this.client.withDeadline(Date.now() + queryTimeoutMs, () => handle.query(taskStateQuery)) };
    } catch (err) {
      error = err;
    }
    report.problems.push(...(await this.whyNoAnswer(info)));
    if (report.problems.length === 0) {
      report.problems.push(`No worker answered within ${queryTimeoutMs / 1000} s (${describeFailure(error)}); try again, or look at the worker's log.`);
    }
    return report;
  }

  /**
   * The pending activities of a task and of its running children (the coding session), with the
   * progress each last sent in its heartbeat details (read with this client's codec).
   */
  async running(info: WorkflowExecutionDescription): Promise<RunningActivity[]> {
    const children = await Promise.all(
      (info.raw.pendingChildren ?? [])
        .flatMap((child) => (child.workflowId ? [child.workflowId] : []))
        .map((workflowId) => this.client.workflow.getHandle(workflowId).describe().catch(() => undefined)),
    );
    const pending = [info, ...children].flatMap((described) => described?.raw.pendingActivities ?? []);
    const converter = this.client.options.loadedDataConverter;
    return Promise.all(
      pending.map(async (activity): Promise<RunningActivity> => {
        const startedMs = activity.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED ? optionalTsToMs(activity.lastStartedTime) : undefined;
        const details = await decodeFromPayloadsAtIndex<unknown>(converter, 0, activity.heartbeatDetails?.payloads).catch(() => undefined);
        const progress = activityProgressSchema.safeParse(details);
        // The server keeps the last details across retries: those from before this attempt are not its own.
        const own = progress.success && (startedMs === undefined || Date.parse(progress.data.since) >= startedMs);
        return {
          activity: activity.activityType?.name ?? 'activity',
          attempt: activity.attempt ?? 1,
          ...(startedMs === undefined ? {} : { startedAt: new Date(startedMs).toISOString() }),
          ...(own && progress.success ? { progress: progress.data } : {}),
        };
      }),
    );
  }

  /**
   * Reasons, from the server, why no worker answers for a task: its payloads were encrypted with
   * a key this client lacks (a worker of this deployment would lack it too), nobody polls its
   * queue, or its workflow task keeps failing.
   */
  private async whyNoAnswer(info: WorkflowExecutionDescription): Promise<string[]> {
    const problems: string[] = [];
    const history = await this.handle(info.workflowId).fetchHistory().catch(() => undefined);
    const events = history?.events ?? [];
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    try {
      for (const codec of this.client.options.loadedDataConverter.payloadCodecs) await codec.decode(input);
    } catch (err) {
      if (!(err instanceof AdoError)) throw err;
      problems.push(`${err.message} Run ADO (workers and this command) with the key the task was started with, in ADO_CODEC_KEYS.`);
    }
    const queue = await this.client.workflowService
      .describeTaskQueue({ namespace: this.namespace, taskQueue: { name: info.taskQueue }, taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW })
      .catch(() => undefined);
    if (queue && (queue.pollers ?? []).length === 0) {
      problems.push(
        `No worker is polling task queue "${info.taskQueue}": start one (\`ado worker\`, or \`ado dev\` without --no-worker, with ADO_TASK_QUEUE_PREFIX matching the queue). The task goes on when one does; until then only the server's view is shown.`,
      );
    }
    const pending = info.raw.pendingWorkflowTask;
    if (info.status.name === 'RUNNING' && (pending?.attempt ?? 0) > 1) {
      const failure = events.filter((event) => event.workflowTaskFailedEventAttributes).pop()?.workflowTaskFailedEventAttributes?.failure?.message;
      problems.push(`The workers fail this task's workflow task (attempt ${pending?.attempt})${failure ? `: ${failure}` : ''}; the worker log has the details.`);
    }
    return problems;
  }

  /** Recent tasks, newest first, from Temporal's visibility store. */
  async list(options: { phase?: TaskPhase; repository?: string; limit?: number } = {}): Promise<TaskSummary[]> {
    const query = taskWorkflowFilter(taskExecutionWorkflow.name, { phase: options.phase, repository: options.repository || undefined });
    const tasks: TaskSummary[] = [];
    for await (const info of this.client.workflow.list({ query })) {
      tasks.push(summarize(info));
      if (tasks.length >= (options.limit ?? 50)) break;
    }
    return tasks;
  }

  /**
   * Follows a task until it ends: `onEvent` gets every phase change (from the task's own phase
   * history, so none is missed between polls), each tool call of an agent coder's session and
   * every new approval request; resolves with how the task ended.
   */
  async follow(taskId: string, onEvent: (event: FollowEvent) => void, pollMs = 300, progressEveryMs = 1000): Promise<TaskOutcome> {
    const handle = this.handle(taskId);
    let done = false;
    let shown = '';
    let progressAt = 0;
    // What runs now, from the server (a describe per child): once a second, told when it changed.
    const progress = async () => {
      if (Date.now() - progressAt < progressEveryMs) return;
      progressAt = Date.now();
      // The agent's turns and tool calls are told as steps already.
      const running = (await this.running(await handle.describe())).filter((r) => !STEP_ACTIVITIES.has(r.activity));
      const now = progressKey(running);
      if (now !== shown && running.length > 0) onEvent({ type: 'progress', running });
      shown = now;
    };
    const outcome = this.outcome(taskId).finally(() => (done = true));
    // Handled at once: when the first report below throws, nothing else awaits `outcome`.
    outcome.catch(() => {});
    let previous: TaskExecutionState | undefined;
    const report = async () => {
      const state = await handle.query(taskStateQuery);
      const changes = changesBetween(previous, state);
      for (const change of changes) if (change.event === 'phase') onEvent({ type: 'phase', change: change.data, state });
      for (const step of newSessionSteps(previous, state)) onEvent({ type: 'step', step, state });
      for (const change of changes) if (change.event === 'approval') onEvent({ type: 'approval', request: change.data, state });
      previous = state;
    };
    await this.withTask(taskId, report);
    while (!done) {
      await Promise.race([outcome, new Promise((r) => setTimeout(r, pollMs))]);
      await report().catch(() => {});
      if (!done) await progress().catch(() => {});
    }
    return outcome;
  }

  /** Waits for the task to end and describes how it ended. */
  async outcome(taskId: string): Promise<TaskOutcome> {
    const handle = this.handle(taskId);
    try {
      const result = await this.withTask(taskId, () => handle.result());
      return { ok: true, phase: 'completed', message: `completed: ${result.pullRequestUrl}`, result };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause;
      if (cause instanceof CancelledFailure) return { ok: false, phase: 'cancelled', message: `cancelled: ${cause.message || 'by request'}` };
      if (cause instanceof TerminatedFailure) return { ok: false, phase: 'terminated', message: `terminated: ${cause.message}` };
      if (cause instanceof TimeoutFailure) return { ok: false, phase: 'timed out', message: 'the workflow timed out' };
      return { ok: false, phase: 'failed', message: `failed: ${describeFailure(err)}` };
    }
  }

  /**
   * How the task ended ("status: COMPLETED, phase: completed"), or undefined while it runs on.
   * A run still cleaning up after reaching a terminal phase counts as ended. Throws
   * `TaskNotFoundError` when there is no such task.
   */
  async ended(taskId: string): Promise<string | undefined> {
    try {
      return howEnded(await this.handle(taskId).describe());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new TaskNotFoundError(taskId, this.namespace, { cause: err });
      throw err;
    }
  }

  /**
   * Runs `fn`, turning "workflow not found" into `TaskNotFoundError`, or, when the task exists
   * but has finished (a closed run takes no signal, update or cancel, and the server answers
   * NOT_FOUND), into `DecisionRejectedError` saying so and ending with `whenFinished`.
   */
  async withTask<T>(taskId: string, fn: () => Promise<T>, whenFinished = 'it takes no more requests'): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      let info: WorkflowExecutionDescription;
      try {
        info = await this.handle(taskId).describe();
      } catch {
        throw new TaskNotFoundError(taskId, this.namespace, { cause: err });
      }
      const ended = howEnded(info);
      if (ended === undefined) throw err;
      throw new DecisionRejectedError(taskId, `Task ${taskId} has finished (${ended}); ${whenFinished}.`, { cause: err });
    }
  }
}

/** How a described run ended, for a human; undefined while it runs and has not reached a terminal phase. */
function howEnded(info: WorkflowExecutionDescription): string | undefined {
  const phase = info.typedSearchAttributes.get(AdoPhase);
  const running = info.status.name === 'RUNNING';
  if (running && !(phase !== undefined && isTerminalPhase(phase))) return undefined;
  return [running ? undefined : `status: ${info.status.name}`, phase === undefined ? undefined : `phase: ${phase}`].filter((part) => part !== undefined).join(', ');
}

export function isTerminalPhase(phase: string): boolean {
  return (TERMINAL_PHASES as readonly string[]).includes(phase);
}

function summarize(info: WorkflowExecutionInfo): TaskSummary {
  return {
    taskId: info.workflowId,
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    phase: info.typedSearchAttributes.get(AdoPhase),
    repository: info.typedSearchAttributes.get(AdoRepository),
    startTime: info.startTime,
    closeTime: info.closeTime,
  };
}
