/**
 * taskExecutionWorkflow: one coding task, from prompt to pull request.
 *
 *   planning ──(approve plan?)──► decomposing ──► coding ⇄ testing (≤ maxIterations)
 *      └─ stuck: same failure fingerprint 3× ──(approve continue?)──┘
 *   ──► review: PR opened ──(approve PR?)──► completed      (any phase ──► failed | cancelled)
 *
 * Deterministic code only: activities are reached through typed proxies, time and ids come from
 * the SDK, and everything the task learns is in `state`, which the `taskState` query returns.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  executeChild,
  isCancellation,
  log,
  metricMeter,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type {
  CodeActivities,
  GenerateCodeResult,
  ReviewActivities,
  TaskActivities,
  WorkspaceActivities,
} from '../activities/interfaces';
import { describeFailure, FailureType } from '../domain/errors';
import { errorFingerprint, isStuck, iterationFingerprint } from '../domain/fingerprint';
import type { RepoRef } from '../domain/repo-ref';
import { AdoPhase, AdoRepository } from '../domain/search-attributes';
import {
  DEFAULT_AGENT_MAX_STEPS,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_MAX_ITERATIONS,
  STUCK_THRESHOLD,
  TERMINAL_PHASES,
  queuePrefixOf,
  taskQueues,
  addUsage,
  ZERO_USAGE,
  type ApprovalDecision,
  type ApprovalRecord,
  CHECKPOINT_FIELDS,
  type CheckpointData,
  type CheckpointedState,
  type CheckpointName,
  type PullRequestInfo,
  type TaskError,
  type TaskExecutionInput,
  type TaskExecutionResult,
  type TaskExecutionState,
  type TaskPhase,
  type TokenUsage,
} from '../domain/task';
import { describeIssues, taskExecutionInputSchema } from '../domain/task-input';
import type { AdoMetricName } from '../telemetry/metric-catalog';
import { formatDuration, liftReached, reachedBudgetLimit } from '../domain/budget';
import { codingSessionWorkflow, type CodingSessionInput, type CodingSessionResult } from './coding-session.workflow';
import {
  agentStepSignal,
  cancelTaskSignal,
  checkpointStatusQuery,
  decideUpdate,
  decisionProblem,
  humanApprovalSignal,
  taskStateQuery,
} from './messages';
import { isInfrastructureFailure, pastDeadline } from './infrastructure-failure';
import { TaskWorkspace } from './task-workspace';

/** The design's retry policy (docs/architecture.md): 1 s, ×2, at most 60 s apart, 3 attempts. */
const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 3 } as const;

/** Work that can take minutes: heartbeats, so a dead worker is noticed and a cancel reaches it. */
const LONG: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20s',
  retry: RETRY,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** Store writes and notifications: quick, and worth more attempts than model calls. */
const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { ...RETRY, maximumAttempts: 10 },
};

/**
 * Store writes as local activities: they run in the workflow's own worker, with no trip through a
 * task queue (on the dev server, 60–110 ms less per checkpoint). A worker that dies mid-write
 * runs the write again on replay; a checkpoint is keyed by its activity and a decision by its
 * request, so each lands once.
 */
const LOCAL_BOOKKEEPING: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { ...RETRY, maximumAttempts: 10 },
};

/** Patch id: store writes moved from `ado-tasks` activities to local activities. */
const LOCAL_STORE_WRITES_PATCH = 'local-store-writes';

/** Patch id: the tree work (generate, execute, gates) runs on the task's warm workspace. */
const WARM_WORKSPACE_PATCH = 'warm-workspace';

/** Patch id: an activity no worker finished is called again instead of failing the task. */
const INFRASTRUCTURE_RETRIES_PATCH = 'infrastructure-retries';

/** Patch id: a reviewer who asks for changes at `pr` (revise) sends the task back to coding. */
const REVISE_AT_PR_PATCH = 'revise-at-pr';

/** Patch id: the agent coder's iterations run as coding sessions (child workflows). */
const AGENT_CODER_PATCH = 'agent-coder';

/** Steps of the current session that `taskState` shows. */
const SHOWN_SESSION_STEPS = 100;

const MAX_CONTEXT_CHARS = 4000;
/** How many dropped decision signals the state keeps (the metric counts them all). */
const MAX_IGNORED_DECISIONS = 5;

/**
 * ADO's task metrics (all listed in src/telemetry/metric-catalog.ts). The SDK hands them to the
 * worker's meter and skips them on replay: they add no command and count each event once.
 */
const taskMetrics = {
  phaseEntered(phase: TaskPhase): void {
    metricMeter.createCounter('ado_task_phase_transitions' satisfies AdoMetricName, 'tasks', 'Tasks entering each phase').add(1, { phase });
  },
  greenAfter(iterations: number): void {
    metricMeter
      .createHistogram('ado_iterations_to_green' satisfies AdoMetricName, 'int', 'iterations', 'Code iterations until the quality gates passed')
      .record(iterations);
  },
  signalIgnored(): void {
    metricMeter.createCounter('ado_approval_signals_ignored' satisfies AdoMetricName, 'signals', 'humanApproval signals the task could not use').add(1);
  },
  approvalWaited(checkpoint: CheckpointName, outcome: 'approved' | 'rejected' | 'timeout', ms: number): void {
    metricMeter
      .createHistogram('ado_approval_wait_seconds' satisfies AdoMetricName, 'float', 's', 'Time a checkpoint waited for a human decision')
      .record(ms / 1000, { checkpoint, outcome });
  },
  ended(outcome: TaskPhase, usage: TokenUsage): void {
    metricMeter.createHistogram('ado_task_tokens' satisfies AdoMetricName, 'int', 'tokens', 'LLM tokens per task').record(usage.totalTokens, { outcome });
    if (usage.costUsd === undefined) return;
    metricMeter.createHistogram('ado_task_cost_usd' satisfies AdoMetricName, 'float', 'USD', 'LLM cost per task').record(usage.costUsd, { outcome });
  },
};

export async function taskExecutionWorkflow(rawInput: TaskExecutionInput): Promise<TaskExecutionResult> {
  const parsed = taskExecutionInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `Invalid task input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const input = parsed.data;
  const { workflowId, runId, taskQueue } = workflowInfo();
  const queues = taskQueues(queuePrefixOf(taskQueue));
  const tasks = outlivingWorkers(proxyActivities<TaskActivities>({ ...LONG, taskQueue: queues.task }));
  const bookkeeping = outlivingWorkers(proxyActivities<TaskActivities>({ ...BOOKKEEPING, taskQueue: queues.task }));
  // Tasks started before the patch keep scheduling their writes on the queue, as their histories say.
  const storeWrites = patched(LOCAL_STORE_WRITES_PATCH) ? proxyLocalActivities<TaskActivities>(LOCAL_BOOKKEEPING) : bookkeeping;
  const code = outlivingWorkers(proxyActivities<CodeActivities>({ ...LONG, taskQueue: queues.code }));
  const review = outlivingWorkers(proxyActivities<ReviewActivities>({ ...LONG, taskQueue: queues.review }));
  // Tasks started before warm workspaces send each call to the pool queues, as their histories say.
  const warm = patched(WARM_WORKSPACE_PATCH)
    ? new TaskWorkspace(
        () => code.acquireWorkspace({ taskId: input.taskId, repo: currentHead(), baseSha: state.baseSha! }),
        LONG,
      )
    : undefined;
  const pooled: WorkspaceActivities = {
    generateCode: code.generateCode,
    executeCode: code.executeCode,
    runQualityGates: review.runQualityGates,
    agentToolCall: code.agentToolCall,
    releaseWorkspace: code.releaseWorkspace,
  };
  /** Runs `call` on the task's warm workspace, or on the pool queues for a task from before them. */
  const onTree = <T>(call: (activities: WorkspaceActivities) => Promise<T>): Promise<T> => (warm ? warm.run(call) : call(pooled));
  const maxIterations = input.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const approvalTimeoutMs = input.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const startedAt = Date.now();

  /** A decision to revise sends the task back to coding (a history from before revisions has no marker: its rejection failed the task, and replays so). */
  let revisable = false;
  const state: TaskExecutionState = {
    taskId: input.taskId,
    repository: input.repository,
    prompt: input.prompt,
    hitlEnabled: input.hitlEnabled,
    phase: 'planning',
    phaseHistory: [{ phase: 'planning', at: new Date(startedAt).toISOString(), attempt: 0 }],
    attempts: 0,
    maxIterations,
    errors: [],
    approvals: [],
    usage: ZERO_USAGE,
    budget: input.budget,
    startedAt: new Date(startedAt).toISOString(),
    updatedAt: new Date(startedAt).toISOString(),
  };
  const decisions = new Map<string, ApprovalRecord>();
  taskMetrics.phaseEntered(state.phase);

  // ---------------------------------------------------------------- messages
  setHandler(taskStateQuery, () => state);
  setHandler(checkpointStatusQuery, () => ({
    currentPhase: state.phase,
    attempts: state.attempts,
    lastCheckpoint: state.checkpointId,
    pendingApproval: state.pendingApproval,
  }));

  /** Throws, with a message for the human, when `decision` does not answer the pending request. */
  function validateDecision(decision: ApprovalDecision): void {
    const pending = state.pendingApproval;
    const shape = decisionProblem(decision, pending?.checkpoint);
    if (shape && shape.field !== 'checkpoint') throw new Error(shape.message);
    if (!pending) throw new Error(`Task ${input.taskId} is not waiting for a decision (phase: ${state.phase}).`);
    if (decision.checkpoint !== undefined && decision.checkpoint !== pending.checkpoint) {
      throw new Error(`Task ${input.taskId} waits at checkpoint "${pending.checkpoint}", not "${decision.checkpoint}".`);
    }
    if (decision.requestId !== undefined && decision.requestId !== pending.id) {
      throw new Error(`Approval request ${decision.requestId} is no longer pending (pending: ${pending.id}).`);
    }
    if (shape) throw new Error(`Task ${input.taskId} waits at checkpoint "${pending.checkpoint}". ${shape.message}`);
  }

  function acceptDecision(decision: ApprovalDecision) {
    const request = state.pendingApproval!;
    const record: ApprovalRecord = { request, decision, decidedAt: new Date().toISOString() };
    decisions.set(request.id, record);
    state.approvals.push(record);
    state.pendingApproval = undefined;
    touch();
    return { requestId: request.id, checkpoint: request.checkpoint, approved: decision.approved };
  }

  setHandler(humanApprovalSignal, (decision) => {
    try {
      validateDecision(decision);
    } catch (err) {
      // A signal has no answer: the log, a metric and the task's state say it was dropped.
      const reason = (err as Error).message;
      log.warn('Ignored humanApproval signal', { reason });
      taskMetrics.signalIgnored();
      state.ignoredDecisions = [...(state.ignoredDecisions ?? []), { at: new Date().toISOString(), reason }].slice(-MAX_IGNORED_DECISIONS);
      touch();
      return;
    }
    acceptDecision(decision);
  });
  setHandler(decideUpdate, acceptDecision, { validator: validateDecision });
  setHandler(agentStepSignal, ({ sessionId, iteration, step }) => {
    if (state.session?.workflowId !== sessionId) state.session = { workflowId: sessionId, iteration, steps: [] };
    state.session.steps = [...state.session.steps, step].slice(-SHOWN_SESSION_STEPS);
    touch();
  });

  const taskScope = new CancellationScope();
  setHandler(cancelTaskSignal, (request) => {
    state.failure = `Cancelled${request?.requestedBy ? ` by ${request.requestedBy}` : ''}${request?.reason ? `: ${request.reason}` : ''}`;
    taskScope.cancel();
  });

  // ---------------------------------------------------------------- helpers
  /** The task branch's last pushed commit, as this workflow recorded it. */
  function currentHead(): RepoRef {
    return { repository: input.repository, remote: state.remote!, sha: state.headSha! };
  }

  function touch(): void {
    state.updatedAt = new Date().toISOString();
  }

  function setPhase(phase: TaskPhase): void {
    if (state.phase === phase) return;
    state.phase = phase;
    state.phaseHistory.push({ phase, at: new Date().toISOString(), attempt: state.attempts });
    touch();
    upsertSearchAttributes([{ key: AdoPhase, value: phase }]);
    taskMetrics.phaseEntered(phase);
    if (TERMINAL_PHASES.includes(phase)) taskMetrics.ended(phase, state.usage);
  }

  async function saveCheckpoint(): Promise<void> {
    state.checkpointId = await storeWrites.saveCheckpoint({
      taskId: input.taskId,
      workflowId,
      runId,
      phase: state.phase,
      data: checkpointData(state),
    });
  }

  async function enterPhase(phase: TaskPhase): Promise<void> {
    if (state.phase === phase) return;
    setPhase(phase);
    await saveCheckpoint();
  }

  function addLlmUsage(usage: TokenUsage): void {
    state.usage = addUsage(state.usage, usage);
  }

  /** Pauses the task for a human; resolves with the decision, fails the task on timeout. */
  async function askHuman(checkpoint: CheckpointName, context: string): Promise<ApprovalRecord> {
    const now = Date.now();
    const request = {
      id: uuid4(),
      checkpoint,
      context: context.length > MAX_CONTEXT_CHARS ? `${context.slice(0, MAX_CONTEXT_CHARS)}\n…` : context,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + approvalTimeoutMs).toISOString(),
    };
    state.pendingApproval = request;
    touch();
    try {
      await bookkeeping.requestHumanApproval({ taskId: input.taskId, workflowId, repository: input.repository, request });
    } catch (err) {
      // Nobody was told, but every channel can still decide: keep waiting rather than fail the task.
      if (isCancellation(err)) throw err;
      log.warn('Approval notification failed', { checkpoint, error: (err as Error).message });
    }
    if (!(await condition(() => decisions.has(request.id), approvalTimeoutMs))) {
      taskMetrics.approvalWaited(checkpoint, 'timeout', Date.now() - now);
      state.pendingApproval = undefined;
      throw ApplicationFailure.create({
        type: FailureType.ApprovalTimeout,
        message: `Human approval timeout for checkpoint: ${checkpoint} (no decision within ${formatDuration(approvalTimeoutMs)})`,
        nonRetryable: true,
      });
    }
    const record = decisions.get(request.id)!;
    // Asked in the activation that took the decision, before the local activity: after it, the
    // marker may land in the next workflow task, which a replay has not looked ahead to yet.
    if (record.decision.revise) revisable = patched(REVISE_AT_PR_PATCH);
    taskMetrics.approvalWaited(checkpoint, record.decision.approved ? 'approved' : 'rejected', Date.now() - now);
    await storeWrites.recordApprovalDecision({ taskId: input.taskId, workflowId, ...record });
    return record;
  }

  function rejected(message: string, record: ApprovalRecord, type: string = FailureType.Rejected): ApplicationFailure {
    const by = record.decision.reviewer ? ` (${record.decision.reviewer})` : '';
    const why = record.decision.comment ? `: ${record.decision.comment}` : '';
    return ApplicationFailure.create({ type, message: `${message}${by}${why}`, nonRetryable: true });
  }

  /** Before each LLM call: a reached budget pauses the task at the `budget` checkpoint; the decision, when asked. */
  async function checkBudget(): Promise<ApprovalRecord | undefined> {
    const reached = reachedBudgetLimit(state.budget, state.usage, Date.now() - startedAt);
    if (!reached) return undefined;
    const record = await askHuman('budget', `Budget reached: ${reached}. Extend the budget to continue, or stop the task.`);
    if (!record.decision.approved) throw rejected(`Stopped at budget checkpoint (${reached})`, record, FailureType.BudgetExceeded);
    // An approval without new limits lifts the limit that was reached.
    state.budget = record.decision.budget ? { ...state.budget, ...record.decision.budget } : liftReached(state.budget, reached);
    return record;
  }

  /**
   * Code ⇄ test from the task branch's head until the quality gates pass (`state.greenSha`), at
   * most `maxIterations` iterations, numbered on from those of earlier rounds (a revision starts
   * a new round). Fails the task as stuck or out of iterations.
   */
  async function codeUntilGreen(
    plan: string,
    subtasks: NonNullable<TaskExecutionState['subtasks']>,
    repo: RepoRef,
    workspace: { baseSha: string; taskBranch: string },
  ): Promise<void> {
    const fingerprints: string[] = [];
    let previousErrors: TaskError[] = [];
    const first = state.attempts + 1;
    for (let iteration = first; iteration < first + maxIterations; iteration++) {
      state.attempts = iteration;
      await enterPhase('coding');
      await checkBudget();
      // Histories from before the agent coder have no `coder`; the patch marks those that do.
      const generated: GenerateCodeResult =
        input.coder === 'agent' && patched(AGENT_CODER_PATCH)
          ? await codingSession(iteration, plan, subtasks, previousErrors, { ...repo, sha: state.headSha! }, workspace)
          : await onTree((tree) =>
              tree.generateCode({
                taskId: input.taskId,
                prompt: input.prompt,
                plan,
                subtasks,
                previousErrors,
                guidance: reviewerGuidance(state.approvals),
                iteration,
                repo: { ...repo, sha: state.headSha! },
                taskBranch: workspace.taskBranch,
              }),
            );
      addLlmUsage(generated.usage);
      state.headSha = generated.sha;
      const head: RepoRef = { ...repo, sha: generated.sha };

      let failures = generated.editErrors;
      if (failures.length === 0) {
        const execution = await onTree((tree) => tree.executeCode({ taskId: input.taskId, repo: head, baseSha: workspace.baseSha }));
        if (!execution.success && execution.error) failures = [execution.error];
      }
      if (failures.length === 0) {
        await enterPhase('testing');
        const gates = await onTree((tree) => tree.runQualityGates({ taskId: input.taskId, repo: head, baseSha: workspace.baseSha }));
        if (gates.passed) {
          taskMetrics.greenAfter(iteration);
          state.greenSha = generated.sha;
          return;
        }
        failures = gates.failures;
      }

      previousErrors = failures.map((f) => ({ ...f, iteration, fingerprint: errorFingerprint(f.message) }));
      state.errors.push(...previousErrors);
      fingerprints.push(iterationFingerprint(previousErrors));
      touch();

      if (isStuck(fingerprints, STUCK_THRESHOLD)) {
        const summary = previousErrors.map((e) => `${e.tool}: ${e.message}`).join('\n');
        if (!input.hitlEnabled) {
          throw ApplicationFailure.create({
            type: FailureType.Stuck,
            message: `Stuck after ${iteration} iterations: the same failure ${STUCK_THRESHOLD} times in a row (run with HITL to decide)`,
            nonRetryable: true,
          });
        }
        const record = await askHuman('stuck', `Stuck after ${iteration} iterations. Continue?\n${summary}`);
        if (!record.decision.approved) throw rejected('Escalated to human after stuck detection', record, FailureType.Stuck);
        fingerprints.length = 0; // a human chose to go on: count repeats afresh
      }
    }
    throw ApplicationFailure.create({
      type: FailureType.MaxIterationsExceeded,
      message: `Quality gates failed after ${maxIterations} iterations`,
      nonRetryable: true,
    });
  }

  /**
   * One iteration of the agent coder: a coding session (its own workflow, `coding-session.workflow.ts`)
   * from the task branch's head. A stuck session goes to the `stuck` checkpoint (HITL) or fails the
   * task; one that ran out of steps hands its state to the iteration's checks like any other.
   */
  async function codingSession(
    iteration: number,
    plan: string,
    subtasks: NonNullable<TaskExecutionState['subtasks']>,
    previousErrors: TaskError[],
    head: RepoRef,
    workspace: { baseSha: string; taskBranch: string },
  ): Promise<GenerateCodeResult> {
    const sessionId = `${workflowId}/session-${iteration}/${runId}`;
    state.session = { workflowId: sessionId, iteration, steps: [] };
    const opening: CodingSessionInput = {
      taskId: input.taskId,
      iteration,
      brief: {
        prompt: input.prompt,
        plan,
        subtasks: subtasks.map((t) => `${t.title}: ${t.description}`),
        feedback: [...previousErrors.map((e) => `${e.tool}: ${e.message}`), ...reviewerGuidance(state.approvals)],
      },
      repo: head,
      baseSha: workspace.baseSha,
      taskBranch: workspace.taskBranch,
      maxSteps: input.maxAgentSteps ?? DEFAULT_AGENT_MAX_STEPS,
    };
    let resume: Pick<CodingSessionInput, 'carry' | 'guidance'> = {};
    let session: CodingSessionResult;
    for (;;) {
      session = await executeChild(codingSessionWorkflow, {
        // A session resumed after the budget checkpoint goes on under its id (its store keys go on too).
        workflowId: sessionId,
        taskQueue,
        args: [
          {
            ...opening,
            ...resume,
            ...(state.budget ? { budget: { limits: state.budget, usedBefore: state.usage, taskStartedAt: startedAt } } : {}),
            ...(warm?.heldOn === undefined ? {} : { workspaceQueue: warm.heldOn }),
          },
        ],
      });
      // The session's tool calls worked on the task's tree, wherever it lives now.
      warm?.adopt(session.workspaceQueue);
      addLlmUsage(session.usage);
      if (session.outcome.kind !== 'budget' || !session.carry) break;
      // Paused before a model turn: the task's budget checkpoint, then the session goes on from
      // where it stopped (its usage is the task's now), the reviewer's comment its next prompt.
      const record = await checkBudget();
      resume = { carry: { ...session.carry, usage: ZERO_USAGE }, guidance: record ? reviewerSaid(record) : [] };
    }
    const outcome = session.outcome;
    if (outcome.kind === 'stuck') {
      const context = `The coding session of iteration ${iteration} is stuck: ${outcome.stuck.detail}.`;
      if (!input.hitlEnabled) throw ApplicationFailure.create({ type: FailureType.Stuck, message: `${context} (run with HITL to decide)`, nonRetryable: true });
      const record = await askHuman('stuck', `${context} Continue with another iteration?`);
      if (!record.decision.approved) throw rejected('Escalated to human after stuck detection', record, FailureType.Stuck);
      return { sha: session.sha, summary: context, filesChanged: [], editErrors: [{ tool: 'agent', message: context }], usage: ZERO_USAGE };
    }
    const summary = outcome.kind === 'finished' ? outcome.summary : outcome.kind === 'step-limit' ? `Stopped after ${outcome.steps} tool calls (the step limit)` : outcome.reached;
    // The session's usage is counted already (before each budget check).
    return { sha: session.sha, summary, filesChanged: [], editErrors: [], usage: ZERO_USAGE };
  }

  // ---------------------------------------------------------------- the task
  async function runTask(): Promise<TaskExecutionResult> {
    upsertSearchAttributes([
      { key: AdoPhase, value: state.phase },
      { key: AdoRepository, value: input.repository },
    ]);
    const workspace = await code.prepareWorkspace({
      taskId: input.taskId,
      repository: input.repository,
      branch: input.branch,
      startSha: input.resumeFrom?.commitSha,
    });
    const repo: RepoRef = workspace.repo;
    // Asked here first, after a regular activity: at the first iteration it follows a local
    // activity, after which its marker may land beyond a replay's look-ahead (see askHuman).
    // Histories from before have it at the first iteration, where codeUntilGreen asks again.
    if (input.coder === 'agent') patched(AGENT_CODER_PATCH);
    Object.assign(state, {
      baseBranch: workspace.baseBranch,
      baseSha: workspace.baseSha,
      remote: workspace.repo.remote,
      taskBranch: workspace.taskBranch,
      headSha: workspace.repo.sha,
    });

    // PHASE 1: planning (a resumed task keeps its approved plan)
    let plan = input.resumeFrom?.plan;
    if (plan === undefined) {
      await checkBudget();
      const result = await tasks.planTask({ taskId: input.taskId, prompt: input.prompt, repo });
      addLlmUsage(result.usage);
      plan = result.content;
    }
    state.plan = plan;
    state.planApproved = input.resumeFrom?.plan !== undefined && input.resumeFrom.planApproved === true;
    await saveCheckpoint();
    if (input.hitlEnabled && !state.planApproved) {
      const record = await askHuman('plan', plan);
      if (!record.decision.approved) throw rejected('Plan rejected by human reviewer', record);
      state.planApproved = true;
    }

    // PHASE 2: decomposition
    await enterPhase('decomposing');
    let subtasks = input.resumeFrom?.subtasks;
    if (subtasks === undefined) {
      await checkBudget();
      const result = await tasks.decomposeTask({ taskId: input.taskId, prompt: input.prompt, plan, repo });
      addLlmUsage(result.usage);
      subtasks = result.subtasks;
    }
    state.subtasks = subtasks;

    // PHASES 3–4: code ⇄ test until the quality gates pass
    await codeUntilGreen(plan, subtasks, repo, workspace);

    // PHASE 5: pull request; a reviewer who asks for changes sends the task back to coding
    let pullRequest: PullRequestInfo;
    for (;;) {
      await enterPhase('review');
      pullRequest = await review.createPullRequest({
        taskId: input.taskId,
        repo: { ...repo, sha: state.greenSha! },
        baseBranch: workspace.baseBranch,
        headBranch: workspace.taskBranch,
        title: `[ADO] ${firstLine(input.prompt)}`,
        description: plan,
      });
      state.pullRequest = pullRequest;
      if (!input.hitlEnabled) break;
      const record = await askHuman('pr', `${pullRequest.url}\n${describePr(pullRequest)}`);
      if (record.decision.approved) {
        pullRequest = await review.mergePullRequest({ taskId: input.taskId, repo, pullRequest });
        state.pullRequest = pullRequest;
        break;
      }
      if (!record.decision.revise || !revisable) throw rejected('PR rejected by human reviewer', record);
      state.revisions = (state.revisions ?? 0) + 1;
      await codeUntilGreen(plan, subtasks, repo, workspace);
    }

    // PHASE 6: completion
    await warm?.release(input.taskId);
    await enterPhase('completed');
    return {
      taskId: input.taskId,
      status: 'completed',
      pullRequestUrl: pullRequest.url,
      pullRequest,
      iterations: state.attempts,
      checkpointId: state.checkpointId,
      usage: state.usage,
    };
  }

  /** Record the end, whatever it was; failures here must not hide the task's own outcome. */
  async function finish(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      try {
        await warm?.release(input.taskId);
        await saveCheckpoint();
        await bookkeeping.notifyTaskOutcome({ taskId: input.taskId, workflowId, state });
      } catch (err) {
        log.warn('Could not record the task outcome', { error: (err as Error).message });
      }
    });
  }

  try {
    const result = await taskScope.run(runTask);
    await bookkeeping.notifyTaskOutcome({ taskId: input.taskId, workflowId, state });
    await condition(allHandlersFinished);
    return result;
  } catch (err) {
    state.pendingApproval = undefined;
    if (isCancellation(err)) {
      state.failure ??= 'Cancelled';
      setPhase('cancelled');
      await finish();
      // Temporal's own cancel ends the run as Cancelled; the cancelTask signal cannot, so it fails
      // the run with a CancelledFailure that carries who cancelled and why.
      if (CancellationScope.current().consideredCancelled) throw err;
      throw new CancelledFailure(state.failure);
    }
    state.failure = describeFailure(err);
    setPhase('failed');
    await finish();
    throw err;
  }
}

// ------------------------------------------------------------------ pure helpers

/**
 * `activities`, each called again (as a new activity) for as long as it fails only because no
 * worker finished it — a dead worker is not the task's fault. Within each call the retry
 * policy's 3 attempts still bound the activity's own failures; the calls are bounded by the
 * task's deadline (its execution timeout, when it has one) and by cancelling the task.
 */
function outlivingWorkers<T extends object>(activities: T): T {
  return new Proxy(activities, {
    get(target, name) {
      const activity: unknown = Reflect.get(target, name);
      if (typeof activity !== 'function') return activity;
      return async (...args: unknown[]) => {
        for (let call = 1; ; call++) {
          try {
            return await (activity as (...a: unknown[]) => Promise<unknown>)(...args);
          } catch (err) {
            // Histories from before the patch failed here, and must replay so.
            if (!isInfrastructureFailure(err) || pastDeadline() || !patched(INFRASTRUCTURE_RETRIES_PATCH)) throw err;
            log.warn('No worker finished the activity; calling it again', { activity: String(name), call, failure: describeFailure(err) });
          }
        }
      };
    },
  });
}

/** A reviewer's comment given with an approval, as the coder reads it; nothing without one. */

function checkpointData(state: TaskExecutionState): CheckpointData {
  const kept = Object.fromEntries(CHECKPOINT_FIELDS.map((field) => [field, state[field]])) as CheckpointedState;
  return { ...kept, lastErrors: state.errors.filter((e) => e.iteration === state.attempts) };
}

/**
 * What reviewers said with their decisions (an approval's comment, or the changes a revise asks
 * for), oldest first: the coder is given it with every later prompt.
 */
function reviewerGuidance(approvals: readonly ApprovalRecord[]): string[] {
  return approvals.flatMap(reviewerSaid);
}

/** What one decision tells the coder: its comment, when it approved or asked for changes. */
function reviewerSaid({ decision }: ApprovalRecord): string[] {
  const comment = decision.comment?.trim();
  if (!comment || !(decision.approved || decision.revise)) return [];
  return [decision.revise ? `A reviewer asked for changes to the pull request: ${comment}` : `A reviewer said: ${comment}`];
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 72 ? `${line.slice(0, 71)}…` : line;
}

function describePr(pr: PullRequestInfo): string {
  const stats = pr.stats ? `, ${pr.stats.commits} commit(s), ${pr.stats.filesChanged} file(s), +${pr.stats.insertions} -${pr.stats.deletions}` : '';
  const sensitive = pr.sensitiveChanges?.length
    ? `\nReview first: it edits how code is built or checked (the task was checked with the base branch's versions):\n${pr.sensitiveChanges.map((c) => `- ${c}`).join('\n')}`
    : '';
  return `${pr.headBranch} → ${pr.baseBranch}${stats}${sensitive}`;
}
