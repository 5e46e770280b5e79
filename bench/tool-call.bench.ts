/**
 * What a coding session's tool call costs on top of the tool itself: the same `view` and `search`
 * calls on a generated repository of 500 files, once through the real path — a coding session
 * workflow on the bench server, whose one model turn (a loopback model) asks for them all, each
 * then an `agentToolCall` activity on the queue of the worker holding the task's warm workspace
 * (the real activities: conversation and observation in a PGlite store, the tree synced to the
 * task branch's head, the repository's config read at the base commit) — and once as `runTool`
 * in process on a copy of the same tree.
 *
 * A call's cost in the session is the time from its `ActivityTaskScheduled` event to the next
 * call's (the workflow task that follows a completion schedules the next call), from the server's
 * own event times. Target: the difference of the medians, the orchestration cost, ≤ 50 ms.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTool } from '../src/agent/run-tool';
import type { ToolContext } from '../src/agent/types';
import type { AgentToolCall } from '../src/domain/agent-tools';
import { taskQueues } from '../src/domain/task';
import { createSandbox } from '../src/sandbox';
import { git, identityEnv } from '../src/workspace/git';
import { GitRemotes } from '../src/workspace/remotes';
import type { codingSessionWorkflow } from '../src/workflows';
import { sendJson, startChatServer, toolCallsCompletion } from '../test/llm/chat-server';
import { generateRepo } from './agent.bench';
import { activitiesOf, historyOf } from './history';
import { atMost, figure, type Figure, type Section } from './report';
import { newPrefix, type BenchStack } from './stack';
import { median, quantile } from './stats';

const FILES = 500;
/** Calls of each tool measured (after one warm-up call). */
const CALLS_PER_TOOL = 25;
const TOOLS = ['view', 'search'] as const;
type MeasuredTool = (typeof TOOLS)[number];

/**
 * Call `i` of the session: tools in turn, each with arguments of its own, so that no stuck rule
 * (the same action repeated, an A/B alternation) ends the session early.
 */
function callAt(i: number): AgentToolCall {
  const tool = TOOLS[i % TOOLS.length]!;
  const id = `call_${i}`;
  return tool === 'view' ? { id, name: 'view', args: { path: `p${i % 20}/src/m${i}.ts` } } : { id, name: 'search', args: { pattern: `run${i}\\b` } };
}

interface Timings {
  session: Record<MeasuredTool, number[]>;
  inProcess: Record<MeasuredTool, number[]>;
  /** Of a call in the session: scheduled → started, started → completed, completed → next scheduled. */
  parts: { dispatch: number[]; activity: number[]; workflowTask: number[] };
}

/** The `toolcall` section (see the module comment). */
export async function measureToolCalls(stack: BenchStack): Promise<Section> {
  // The worker's store, remotes and workspaces; traversable by the sandbox user, as in production.
  const work = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-tools-'));
  await chmod(work, 0o755);
  const repository = await generateRepo(FILES);
  try {
    await git(['init', '--quiet', '--initial-branch=main', repository]);
    await git(['add', '--all'], { cwd: repository });
    await git(['commit', '--quiet', '-m', 'generated'], { cwd: repository, env: identityEnv() });
    const calls = Array.from({ length: 1 + CALLS_PER_TOOL * TOOLS.length }, (_, i) => callAt(i));
    const session = await sessionTimings(stack, work, repository, calls);
    const inProcess = await inProcessTimings(repository, calls);
    return report({ ...session, inProcess });
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(repository, { recursive: true, force: true });
  }
}

/** Runs `calls` in one coding session and reads each call's cost from its history. */
async function sessionTimings(stack: BenchStack, work: string, repository: string, calls: AgentToolCall[]): Promise<Omit<Timings, 'inProcess'>> {
  // The one model turn: every call at once (the session runs them one after the other).
  const model = await startChatServer((_request, res) => sendJson(res, 200, toolCallsCompletion(calls.map((c) => ({ id: c.id, name: c.name, arguments: c.args })))));
  const prefix = newPrefix('tools');
  const worker = await stack.startWorker(prefix, {}, { entry: 'test/fixtures/agent-worker.ts', env: { AGENT_WORK: work, MODEL_URL: model.url } });
  try {
    const remotes = new GitRemotes({ root: path.join(work, 'git') });
    const imported = await remotes.importRepository(repository, 'main');
    const taskId = `bench-tools-${randomUUID().slice(0, 6)}`;
    const taskBranch = `ado/${taskId}`;
    const sha = await remotes.ensureTaskBranch(imported.remote, taskBranch, imported.baseSha, { reset: true });
    const handle = await stack.client.workflow.start<typeof codingSessionWorkflow>('codingSessionWorkflow', {
      taskQueue: taskQueues(prefix).task,
      workflowId: `${taskId}-session`,
      args: [
        {
          taskId,
          iteration: 1,
          brief: { prompt: 'Read the code.', plan: '', subtasks: [], feedback: [] },
          repo: { repository, remote: imported.remote, sha },
          baseSha: imported.baseSha,
          taskBranch,
          maxSteps: calls.length,
        },
      ],
    });
    const result = await handle.result();
    if (result.outcome.kind !== 'step-limit' || result.steps !== calls.length) throw new Error(`the session ended with ${JSON.stringify(result.outcome)} after ${result.steps} of ${calls.length} calls`);
    if (model.requests.length !== 1) throw new Error(`the model was asked ${model.requests.length} times, expected once`);
    const toolCalls = activitiesOf(await historyOf(handle)).filter((a) => a.type === 'agentToolCall');
    const timings: Omit<Timings, 'inProcess'> = { session: { view: [], search: [] }, parts: { dispatch: [], activity: [], workflowTask: [] } };
    // The first call is the warm-up; the last has no next call to end its cycle.
    for (let i = 1; i < toolCalls.length - 1; i++) {
      const call = toolCalls[i]!;
      const next = toolCalls[i + 1]!;
      if (call.startedAt === undefined || call.completedAt === undefined) throw new Error(`tool call ${i} did not complete in ${handle.workflowId}`);
      timings.session[TOOLS[i % TOOLS.length]!].push(next.scheduledAt - call.scheduledAt);
      timings.parts.dispatch.push(call.startedAt - call.scheduledAt);
      timings.parts.activity.push(call.completedAt - call.startedAt);
      timings.parts.workflowTask.push(next.scheduledAt - call.completedAt);
    }
    return timings;
  } finally {
    await worker.process.kill();
    await model.close();
  }
}

/** Each call (after the warm-up) as `runTool` in this process, on the generated tree itself. */
async function inProcessTimings(repository: string, calls: AgentToolCall[]): Promise<Record<MeasuredTool, number[]>> {
  const ctx: ToolContext = { workspaceDir: repository, sandbox: createSandbox({ backend: 'bubblewrap' }), repoConfig: { source: 'none', gates: {}, limits: {}, packageScripts: {} } };
  const times: Record<MeasuredTool, number[]> = { view: [], search: [] };
  await runTool(calls[0]!, ctx);
  for (let i = 1; i < calls.length - 1; i++) {
    const started = performance.now();
    const observation = await runTool(calls[i]!, ctx);
    times[TOOLS[i % TOOLS.length]!].push(performance.now() - started);
    if (!observation.ok) throw new Error(`${calls[i]!.name} failed in process: ${observation.text}`);
  }
  return times;
}

function report(t: Timings): Section {
  const figures: Figure[] = TOOLS.flatMap((tool) => {
    const session = t.session[tool];
    const local = t.inProcess[tool];
    return [
      figure(`${tool} through the session's activity, median`, median(session), 'ms'),
      figure(`${tool} through the session's activity, p95`, quantile(session, 0.95), 'ms'),
      figure(`${tool} in process (runTool), median`, median(local), 'ms'),
      figure(`${tool} in process (runTool), p95`, quantile(local, 0.95), 'ms'),
      figure(`${tool}: orchestration cost per call, median difference`, median(session) - median(local), 'ms', atMost(50, ' ms')),
    ];
  });
  const ms = (values: number[]) => `${median(values).toFixed(1)} ms`;
  return {
    name: `tool calls: the coding session's activity on the warm workspace vs runTool in process (${FILES} files, ${CALLS_PER_TOOL} calls of each tool)`,
    figures,
    notes: [
      `a call in the session, medians: scheduled → started ${ms(t.parts.dispatch)}, started → completed ${ms(t.parts.activity)} (the tool, the store, the tree), completed → next call scheduled ${ms(t.parts.workflowTask)} (a workflow task)`,
      'search starts ripgrep: from the worker, whose embedded PGlite store (hundreds of MiB mapped) makes each process it forks dearer, that costs more than from the bench process',
    ],
  };
}
