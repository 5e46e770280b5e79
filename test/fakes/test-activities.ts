/**
 * Test activities for driving the task workflow: instant by default, scripted per iteration,
 * recording every call. Fakes belong here, in tests, not in `src/`.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { Context, CancelledFailure } from '@temporalio/activity';
import type { AdoActivities } from '../../src/activities/interfaces';
import { AGENT_TOOL_NAMES } from '../../src/domain/agent-tools';
import type { ActivityProgress } from '../../src/domain/progress';
import type { GateResult, QualityGatesResult } from '../../src/domain/quality-gates';
import { queuePrefixOf, workspaceQueue, type PullRequestInfo, type TokenUsage } from '../../src/domain/task';
import { PROCESS_WORKER_ID } from '../../src/workspace/warm';

export interface FakeFailure {
  tool: string;
  message: string;
  exitCode?: number;
}

export interface FakeScript {
  plan?: string;
  /** Gate failures per iteration (index 0 = iteration 1); iterations beyond the list pass. */
  gateFailures?: FakeFailure[][];
  /** Milliseconds an activity takes, heartbeating, before it completes. */
  delays?: Partial<Record<keyof AdoActivities, number>>;
  /** What a delayed activity says it does meanwhile, in its heartbeat details (as `ActivityRun.report` sends it). */
  doing?: Partial<Record<keyof AdoActivities, string>>;
  /** Tokens each LLM activity reports. */
  usage?: TokenUsage;
  /** When set, each completed activity appends its name here (counts side effects across processes). */
  sideEffectsFile?: string;
  /** When set, an activity started appends `start:<name>` here. */
  startsFile?: string;
  /** Fault injection: while this file exists, `faultActivity` fails non-retryably. */
  faultFile?: string;
  faultActivity?: keyof AdoActivities;
  /**
   * Agent coder: the tools the model calls in each turn (index 0 = turn 1 of every session); an
   * unknown name is a malformed call, `finish` ends the session, each other call is a distinct step.
   */
  agentTurns?: string[][];
  /** Every agent step is the same action with the same observation (the stuck rules' case). */
  agentRepeats?: boolean;
  /** Agent turns (1-based) after which the conversation is reported near the context window. */
  agentFullAfter?: number[];
}

/** The context window the fake turns report. */
const FAKE_WINDOW = 10_000;

export interface CallRecord {
  name: keyof AdoActivities;
  input: unknown;
}

export interface FakeActivities {
  activities: AdoActivities;
  calls: CallRecord[];
  /** Names of activities that observed a cancellation. */
  cancelled: string[];
  count(name: keyof AdoActivities): number;
}

const KNOWN_TOOLS: ReadonlySet<string> = new Set(AGENT_TOOL_NAMES);

const DEFAULT_USAGE: TokenUsage = { promptTokens: 100, completionTokens: 50, totalTokens: 150 };

export function createTestActivities(script: FakeScript = {}): FakeActivities {
  const calls: CallRecord[] = [];
  const cancelled: string[] = [];
  const usage = script.usage ?? DEFAULT_USAGE;
  let gateRuns = 0;
  let sha = 0;

  async function step<T>(name: keyof AdoActivities, input: unknown, result: () => T): Promise<T> {
    calls.push({ name, input });
    if (script.startsFile) appendFileSync(script.startsFile, `start:${name}\n`);
    if (name === script.faultActivity && script.faultFile && existsSync(script.faultFile)) {
      throw ApplicationFailure.create({ type: 'InjectedFault', message: `Injected fault in ${name}`, nonRetryable: true });
    }
    const delay = script.delays?.[name] ?? 0;
    if (delay > 0) await heartbeatingSleep(name, delay, cancelled, script.doing?.[name]);
    const value = result();
    if (script.sideEffectsFile) appendFileSync(script.sideEffectsFile, `${name}\n`);
    return value;
  }

  const pr = (input: { taskId: string; baseBranch: string; headBranch: string; title: string; repo: { sha: string } }): PullRequestInfo => ({
    provider: 'fake',
    id: `pr-${input.taskId}`,
    number: 1,
    url: `fake://pr/${input.taskId}`,
    title: input.title,
    baseBranch: input.baseBranch,
    headBranch: input.headBranch,
    headSha: input.repo.sha,
    merged: false,
  });

  const activities: AdoActivities = {
    planTask: (input) => step('planTask', input, () => ({ content: script.plan ?? `Plan for: ${input.prompt}`, usage })),
    decomposeTask: (input) =>
      step('decomposeTask', input, () => ({
        subtasks: [{ id: 's1', title: 'Do it', description: input.plan }],
        usage,
      })),
    requestHumanApproval: (input) => step('requestHumanApproval', input, () => undefined),
    recordApprovalDecision: (input) => step('recordApprovalDecision', input, () => undefined),
    saveCheckpoint: (input) => step('saveCheckpoint', input, () => `cp-${input.phase}-${calls.length}`),
    notifyTaskOutcome: (input) => step('notifyTaskOutcome', input, () => undefined),
    prepareWorkspace: (input) =>
      step('prepareWorkspace', input, () => ({
        repo: { repository: input.repository, remote: 'fake://remote', sha: input.startSha ?? 'base0' },
        baseBranch: input.branch || 'main',
        baseSha: 'base0',
        taskBranch: `ado/${input.taskId}`,
      })),
    agentTurn: (input) =>
      step('agentTurn', input, () => {
        const tools = script.agentTurns?.[input.turn - 1];
        if (!tools) throw ApplicationFailure.create({ type: 'TranscriptMismatch', message: `no scripted agent turn ${input.turn}`, nonRetryable: true });
        return {
          conversationKey: `${input.sessionId}/conversation/${input.turn}`,
          calls: tools.map((tool, i) => {
            const callId = `fake_${input.turn}_${i + 1}_${tool}`;
            return KNOWN_TOOLS.has(tool) ? { callId, ok: true, tool, argument: `arg ${input.turn}` } : { callId, ok: false, tool, argument: '', error: `Unknown tool ${tool}` };
          }),
          usage,
          condensed: false,
          context: { tokens: script.agentFullAfter?.includes(input.turn) ? FAKE_WINDOW - 1 : 100, window: FAKE_WINDOW },
        };
      }),
    condenseConversation: (input) =>
      step('condenseConversation', input, () => ({
        conversationKey: `${input.sessionId}/conversation/${input.turn}/condensed`,
        summaryKey: `${input.sessionId}/summary/${input.turn}`,
        usage,
        tokens: { before: FAKE_WINDOW - 1, after: 100 },
      })),
    agentToolCall: (input) =>
      step('agentToolCall', input, () => {
        const finished = input.callId.endsWith('_finish');
        return {
          sha: finished ? input.repo.sha : `sha${++sha}`,
          ok: true,
          observationKey: `${input.sessionId}/observation/${input.step}`,
          actionHash: script.agentRepeats ? 'same' : `a${input.step}`,
          observationHash: script.agentRepeats ? 'same' : `o${input.step}`,
          durationMs: 1,
          ...(finished ? { finished: { summary: 'done' } } : {}),
        };
      }),
    acquireWorkspace: (input) =>
      step('acquireWorkspace', input, () => ({
        // This process's workspace queue, which the test workers serve (see createWorkers).
        taskQueue: workspaceQueue(queuePrefixOf(Context.current().info.taskQueue, 'code'), PROCESS_WORKER_ID),
        setup: 'none' as const,
      })),
    releaseWorkspace: (input) => step('releaseWorkspace', input, () => undefined),
    generateCode: (input) =>
      step('generateCode', input, () => ({
        sha: `sha${++sha}`,
        summary: `iteration ${input.iteration}`,
        filesChanged: ['src/index.ts'],
        editErrors: [],
        usage,
      })),
    executeCode: (input) => step('executeCode', input, () => ({ success: true, skipped: true, durationMs: 0 })),
    runQualityGates: (input) =>
      step('runQualityGates', input, (): QualityGatesResult => {
        const failures = script.gateFailures?.[gateRuns++] ?? [];
        const gates: GateResult[] = ['typecheck', 'lint', 'test', 'build'].map((gate) => ({
          gate,
          command: `npm run ${gate}`,
          passed: !failures.some((f) => f.tool === gate),
          exitCode: failures.some((f) => f.tool === gate) ? 1 : 0,
          durationMs: 1,
        }));
        return { passed: failures.length === 0, gates, failures };
      }),
    createPullRequest: (input) => step('createPullRequest', input, () => pr(input)),
    mergePullRequest: (input) => step('mergePullRequest', input, () => ({ ...input.pullRequest, merged: true })),
  };

  return { activities, calls, cancelled, count: (name) => calls.filter((c) => c.name === name).length };
}

/** Sleeps `ms` while heartbeating (with `doing` as progress); records and rethrows a cancellation. */
async function heartbeatingSleep(name: string, ms: number, cancelled: string[], doing?: string): Promise<void> {
  const ctx = Context.current();
  const end = Date.now() + ms;
  const progress: ActivityProgress | undefined = doing ? { doing, since: new Date().toISOString() } : undefined;
  try {
    while (Date.now() < end) {
      ctx.heartbeat(progress);
      await ctx.sleep(Math.min(200, end - Date.now()));
    }
  } catch (err) {
    if (err instanceof CancelledFailure) cancelled.push(name);
    throw err;
  }
}
