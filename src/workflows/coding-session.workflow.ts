/**
 * codingSessionWorkflow: one code iteration of the agent coder, as a child of
 * taskExecutionWorkflow. The model works in turns; each turn is an activity (`agentTurn`), and each
 * tool call it makes is an activity of its own (`agentToolCall`) on the task's warm workspace (the
 * task's `TaskWorkspace`, handed over by the task and back), committing after every edit. A worker
 * that dies mid-session resumes at the last finished step: finished turns and calls are in
 * history, a turn whose answer reached the store is not asked again, and a call on a workspace
 * whose worker is gone runs on a workspace acquired anew from the last commit.
 *
 *   turn ─► calls ─► (step ─► stuck?  finish?)* ─► [condense] ─► next turn   … until finish, stuck, or the step limit
 *
 * Each turn reports how full the conversation is; near the model's context window the session
 * has the older turns condensed into a summary (`condenseConversation`) before the next turn.
 *
 * History stays small: conversations, answers and observations are in the ADO store, the workflow
 * passes their keys; the session continues as new when the server suggests it or after
 * `TURNS_PER_RUN` turns. Deterministic code only.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { AgentBrief, AgentCallResult, AgentToolInput, CodeActivities } from '../activities/interfaces';
import { needsCondensing } from '../domain/agent-context';
import { detectStuck, STUCK_RULES } from '../domain/agent-stuck';
import { reachedBudgetLimit } from '../domain/budget';
import type { AgentOutcome, AgentStep } from '../domain/agent-tools';
import { FailureType } from '../domain/errors';
import type { RepoRef } from '../domain/repo-ref';
import { addUsage, queuePrefixOf, taskQueues, ZERO_USAGE, type TaskBudget, type TokenUsage } from '../domain/task';
import { agentStepSignal } from './messages';
import { TaskWorkspace } from './task-workspace';

/** Turns without one usable tool call, in a row, before the session fails. */
export const MALFORMED_TURNS_LIMIT = 3;
/** Turns per run before continuing as new (the server may suggest it earlier). */
export const TURNS_PER_RUN = 40;

/** Patch id: the task's budget is checked before every model turn, and a reached one pauses the session. */
const SESSION_BUDGET_PATCH = 'agent-session-budget';

/** Patch id: tool calls run on the task's warm workspace, not on a fresh checkout of the code pool. */
const WARM_TOOL_CALLS_PATCH = 'agent-warm-workspace';

/** Patch id: the session condenses a conversation near the window (`condenseConversation`), not the turn inline. */
const CONDENSE_ACTIVITY_PATCH = 'agent-condense-activity';

const CALLS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 3 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

export interface CodingSessionInput {
  taskId: string;
  iteration: number;
  brief: AgentBrief;
  /** The task branch's head when the session starts. */
  repo: RepoRef;
  baseSha: string;
  taskBranch: string;
  maxSteps: number;
  /** The queue of the worker holding the task's warm workspace, when the task has one. */
  workspaceQueue?: string;
  /** The task's budget, checked before every model turn. */
  budget?: SessionBudget;
  /** A reviewer's words for the next model turn (given with the decision that let the session go on). */
  guidance?: string[];
  /** Where a run that continued as new, or a session paused at the budget, left off. */
  carry?: SessionCarry;
}

export interface SessionBudget {
  limits: TaskBudget;
  /** The task's usage when the session (or its resumption) started. */
  usedBefore: TokenUsage;
  /** When the task started (epoch ms): its time limit counts from there. */
  taskStartedAt: number;
}

/** What a session carries into its next run. */
export interface SessionCarry {
  turn: number;
  step: number;
  sha: string;
  conversationKey?: string;
  results: AgentCallResult[];
  malformedInRow: number;
  usage: TokenUsage;
  /** The latest steps, enough for the stuck rules. */
  recentSteps: AgentStep[];
}

export interface CodingSessionResult {
  outcome: AgentOutcome;
  sha: string;
  usage: TokenUsage;
  turns: number;
  steps: number;
  /** The queue of the worker holding the task's warm workspace at the end (for the task to use). */
  workspaceQueue?: string;
  /** Paused at the budget: where to resume. */
  carry?: SessionCarry;
}

export async function codingSessionWorkflow(input: CodingSessionInput): Promise<CodingSessionResult> {
  const info = workflowInfo();
  const queues = taskQueues(queuePrefixOf(info.taskQueue));
  const code = proxyActivities<CodeActivities>({ ...CALLS, taskQueue: queues.code });
  const parent = info.parent ? getExternalWorkflowHandle(info.parent.workflowId) : undefined;
  const s: SessionCarry = input.carry ?? { turn: 0, step: 0, sha: input.repo.sha, results: [], malformedInRow: 0, usage: ZERO_USAGE, recentSteps: [] };
  const sessionId = info.workflowId;
  // Sessions from before the patch ran each call on a fresh checkout, as their histories say.
  const workspace = patched(WARM_TOOL_CALLS_PATCH)
    ? new TaskWorkspace(() => code.acquireWorkspace({ taskId: input.taskId, repo: { ...input.repo, sha: s.sha }, baseSha: input.baseSha }), CALLS, input.workspaceQueue)
    : undefined;
  // Sessions from before the patch left condensation to each turn, as their histories say.
  const condenses = patched(CONDENSE_ACTIVITY_PATCH);
  let turnsThisRun = 0;
  let guidance = input.guidance;

  const ended = (outcome: AgentOutcome): CodingSessionResult => ({
    outcome,
    sha: s.sha,
    usage: s.usage,
    turns: s.turn,
    steps: s.step,
    ...(workspace?.heldOn === undefined ? {} : { workspaceQueue: workspace.heldOn }),
  });

  for (;;) {
    if (s.step >= input.maxSteps) return ended({ kind: 'step-limit', sha: s.sha, steps: s.step });
    if (turnsThisRun > 0 && (workflowInfo().continueAsNewSuggested || turnsThisRun >= TURNS_PER_RUN)) {
      await continueAsNew<typeof codingSessionWorkflow>({ ...input, workspaceQueue: workspace?.heldOn, guidance: undefined, carry: s });
    }
    const budget = input.budget;
    const reached = budget && reachedBudgetLimit(budget.limits, addUsage(budget.usedBefore, s.usage), Date.now() - budget.taskStartedAt);
    // Sessions recorded before the patch asked the model regardless.
    if (reached && patched(SESSION_BUDGET_PATCH)) return { ...ended({ kind: 'budget', reached, sha: s.sha }), carry: s };
    s.turn++;
    turnsThisRun++;
    const turn = await code.agentTurn({
      taskId: input.taskId,
      sessionId,
      iteration: input.iteration,
      turn: s.turn,
      conversationKey: s.conversationKey,
      ...(s.conversationKey === undefined ? { brief: input.brief } : {}),
      results: s.results,
      ...(guidance ? { guidance } : {}),
      ...(condenses ? { workflowCondenses: true } : {}),
    });
    guidance = undefined;
    s.usage = addUsage(s.usage, turn.usage);
    s.conversationKey = turn.conversationKey;
    s.results = [];

    if (!turn.calls.some((c) => c.ok)) {
      s.malformedInRow++;
      if (s.malformedInRow >= MALFORMED_TURNS_LIMIT) {
        throw ApplicationFailure.create({
          type: FailureType.MalformedToolCalls,
          message: `The model sent no usable tool call ${MALFORMED_TURNS_LIMIT} turns in a row (last: ${turn.calls[0]?.error ?? 'no call'})`,
          nonRetryable: true,
        });
      }
    } else {
      s.malformedInRow = 0;
    }

    for (const call of turn.calls) {
      if (!call.ok) {
        s.results.push({ callId: call.callId, text: `Format error: ${call.error ?? 'unusable call'}` });
        continue;
      }
      if (s.step >= input.maxSteps) {
        s.results.push({ callId: call.callId, text: 'Not run: the session reached its step limit.' });
        continue;
      }
      s.step++;
      const toolCall: AgentToolInput = {
        taskId: input.taskId,
        sessionId,
        step: s.step,
        conversationKey: turn.conversationKey,
        callId: call.callId,
        repo: { ...input.repo, sha: s.sha },
        baseSha: input.baseSha,
        taskBranch: input.taskBranch,
      };
      const result = workspace ? await workspace.run((tree) => tree.agentToolCall(toolCall)) : await code.agentToolCall(toolCall);
      s.sha = result.sha;
      s.results.push({ callId: call.callId, step: s.step, key: result.observationKey });
      const step: AgentStep = {
        index: s.step,
        tool: call.tool,
        argument: call.argument,
        outcome: result.ok ? 'ok' : 'error',
        durationMs: result.durationMs,
        actionKey: result.actionHash,
        observationKey: result.observationHash,
      };
      s.recentSteps = [...s.recentSteps, step].slice(-Math.max(...Object.values(STUCK_RULES)));
      await parent?.signal(agentStepSignal, { sessionId, iteration: input.iteration, step }).catch((err: unknown) => {
        // Progress display only: a parent that cannot be told must not stop the session.
        log.warn('Could not report a session step to the task', { error: (err as Error).message });
      });
      if (result.finished) return ended({ kind: 'finished', summary: result.finished.summary, sha: s.sha });
      const stuck = detectStuck(s.recentSteps);
      if (stuck) return ended({ kind: 'stuck', stuck, sha: s.sha });
    }

    // Near the model's window: the older turns become a summary (stored; the key comes back), and
    // the next turn continues the condensed conversation.
    if (condenses && turn.context && needsCondensing(turn.context)) {
      const condensed = await code.condenseConversation({ taskId: input.taskId, sessionId, iteration: input.iteration, turn: s.turn + 1, conversationKey: turn.conversationKey });
      s.usage = addUsage(s.usage, condensed.usage);
      s.conversationKey = condensed.conversationKey;
    }
  }
}
