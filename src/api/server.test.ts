/**
 * The HTTP API over real HTTP: a real Temporal dev server and workers (instant test activities,
 * with the real store-writing ones), a real PostgreSQL store, a real git remote for the diff.
 * What the API refuses before it needs any of them (tokens, validation, unknown tasks) is tested
 * in process in refusals.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities } from '../../test/fakes/test-activities';
import { importedRepo, pushChange, useGitTestFolder } from '../../test/helpers/git-repos';
import { startPostgres, type TestPostgres } from '../../test/helpers/postgres';
import { startLocalEnv, uniqueTaskId, startTestWorkers, type TestWorkers } from '../../test/helpers/temporal';
import { waitFor } from '../../test/helpers/workflow';
import { createTaskActivities } from '../activities/task.activities';
import type { AdoActivities } from '../activities/interfaces';
import { HITLHandler } from '../client/hitl-handler';
import { TaskClient } from '../client/task-client';
import type { TaskExecutionState } from '../domain/task';
import { openStore } from '../store';
import type { AdoStore, ApprovalRow } from '../store/types';
import { silentLogger } from '../telemetry/logger';
import { startApiServer, type RunningApi } from './server';

const TOKEN = randomBytes(24).toString('hex');
const workDir = useGitTestFolder('api');
let env: TestWorkflowEnvironment;
let postgres: TestPostgres;
let store: AdoStore;
let api: RunningApi;
let repository: string;
let workers: TestWorkers | undefined;

beforeAll(async () => {
  env = await startLocalEnv();
  postgres = await startPostgres();
  store = await openStore({ databaseUrl: postgres.url });
  const ref = await importedRepo(workDir(), 'app', { 'src/index.js': 'module.exports = 1;\n' });
  repository = ref.repository;
  const headSha = await pushChange(workDir(), ref, 'ado/fixture', { 'src/index.js': 'module.exports = 2;\n' });
  const fake = createTestActivities().activities;
  // The store-writing activities are the real ones, so checkpoints and the approvals audit are real rows.
  const real = createTaskActivities({ logger: silentLogger(), store, notifiers: [], scratchDir: workDir(), llm: { chat: () => Promise.reject(new Error('no LLM in this test')) } });
  const activities: AdoActivities = {
    ...fake,
    saveCheckpoint: real.saveCheckpoint,
    recordApprovalDecision: real.recordApprovalDecision,
    // Every task works on the same real remote: base commit, then one change.
    prepareWorkspace: async (input) => ({ ...(await fake.prepareWorkspace(input)), repo: ref, baseSha: ref.sha }),
    generateCode: async (input) => ({ ...(await fake.generateCode(input)), sha: headSha }),
  };
  workers = await startTestWorkers(env, activities);
  const prefix = workers.prefix;
  api = await startApiServer({
    tasks: new TaskClient(env.client, prefix),
    hitl: new HITLHandler(env.client),
    store,
    auth: { tokens: [{ name: 'alice', token: TOKEN }] },
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    events: { pollMs: 50, heartbeatMs: 1000 },
  });
});

afterAll(async () => {
  await api?.close();
  await workers?.stop();
  await store?.close();
  await postgres?.stop();
  await env?.teardown();
});

interface Call {
  method?: string;
  body?: unknown;
  /** `null`: no Authorization header. */
  token?: string | null;
  signal?: AbortSignal;
}

function request(route: string, { method = 'GET', body, token = TOKEN, signal }: Call = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${api.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
}

async function json<T = Record<string, unknown>>(route: string, call: Call = {}): Promise<{ status: number; body: T; type: string | null }> {
  const response = await request(route, call);
  return { status: response.status, body: (await response.json()) as T, type: response.headers.get('content-type') };
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

interface Detail {
  state: TaskExecutionState;
  approvals: ApprovalRow[];
  checkpoints: Array<{ id: string; phase: string; timestamp: string }>;
}

const detailOf = async (taskId: string) => (await json<Detail>(`/api/tasks/${taskId}`)).body;

/** Starts a HITL task through the API and waits until it asks for `checkpoint`. */
async function taskWaitingAt(checkpoint: string): Promise<{ taskId: string; state: TaskExecutionState }> {
  const taskId = uniqueTaskId('api');
  const started = await json('/api/tasks', { method: 'POST', body: { taskId, prompt: 'Validate the signup form', repository, hitl: true } });
  expect(started.status).toBe(201);
  const state = await waitFor(async () => {
    const { state } = await detailOf(taskId);
    return state.pendingApproval?.checkpoint === checkpoint ? state : undefined;
  }, `task ${taskId} waiting at ${checkpoint}`);
  return { taskId, state };
}

/** The events of a text/event-stream response, as they arrive. */
async function* sseEvents(response: Response): AsyncGenerator<{ event: string; data: unknown }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) yield { event, data: JSON.parse(data) };
    }
  }
}

describe('tasks', () => {
  it('starts a task, lists it with its prompt from the store, and shows its detail with checkpoints', async () => {
    const { taskId } = await taskWaitingAt('plan');
    const detail = await detailOf(taskId);
    expect(detail.state).toMatchObject({ taskId, phase: 'planning', repository, plan: 'Plan for: Validate the signup form' });
    expect(detail.state.pendingApproval).toMatchObject({ checkpoint: 'plan' });
    expect(detail.checkpoints.length).toBeGreaterThan(0);
    expect(detail.checkpoints[0]).toMatchObject({ phase: 'planning', id: expect.any(String) });

    const listed = await waitFor(async () => {
      const { body } = await json<{ tasks: Array<Record<string, unknown>> }>(`/api/tasks?phase=&limit=&repository=${encodeURIComponent(repository)}`);
      return body.tasks.find((t) => t.taskId === taskId);
    }, 'the task in the list');
    expect(listed).toMatchObject({ taskId, status: 'RUNNING', repository, prompt: 'Validate the signup form', hitlEnabled: true });

    const elsewhere = await json<{ tasks: unknown[] }>('/api/tasks?repository=%2Fsomewhere%2Felse');
    expect(elsewhere.body.tasks).toEqual([]);
  });

  it('answers for a task no worker serves within the status deadline: a 503 that says why', async () => {
    const taskId = uniqueTaskId('nobody');
    // Started on a queue no worker polls.
    await new TaskClient(env.client, 'nobody-').start({ taskId, prompt: 'wait', repository, branch: '', hitlEnabled: false });
    const { status, body } = await json<Problem>(`/api/tasks/${taskId}`);
    expect({ status, type: body.type }).toEqual({ status: 503, type: 'urn:ado:problem:no-worker-answer' });
    expect(body.detail).toContain(`Task ${taskId} is RUNNING`);
    expect(body.detail).toContain('No worker is polling task queue "nobody-ado-tasks"');
  });

  it('refuses a second task with the same id (409)', async () => {
    const taskId = uniqueTaskId('dup');
    const body = { taskId, prompt: 'x', repository, hitl: true };
    expect((await json('/api/tasks', { method: 'POST', body })).status).toBe(201);
    const again = await json<Problem>('/api/tasks', { method: 'POST', body });
    expect(again).toMatchObject({ status: 409, body: { type: 'urn:ado:problem:task-already-exists' } });
  });
});

describe('decisions', () => {
  it('refuses a decision for a stale checkpoint or request (409) and changes nothing', async () => {
    const { taskId, state: before } = await taskWaitingAt('plan');
    const wrongCheckpoint = await json<Problem>(`/api/tasks/${taskId}/decision`, { method: 'POST', body: { approved: true, checkpoint: 'pr' } });
    expect(wrongCheckpoint).toMatchObject({ status: 409, body: { type: 'urn:ado:problem:decision-rejected', detail: expect.stringContaining('"plan", not "pr"') } });
    const staleRequest = await json<Problem>(`/api/tasks/${taskId}/decision`, { method: 'POST', body: { approved: false, requestId: 'an-old-request' } });
    expect(staleRequest.status).toBe(409);

    const after = await detailOf(taskId);
    expect(after.state.pendingApproval).toEqual(before.pendingApproval);
    expect(after.state.approvals).toEqual([]);
    expect(after.state.phaseHistory).toEqual(before.phaseHistory);
    expect(after.approvals).toEqual([]);
  });

  it('accepts a decision (200), records it with the token name and the api channel, and the task moves on', async () => {
    const { taskId, state } = await taskWaitingAt('plan');
    const request = state.pendingApproval!;
    const decided = await json(`/api/tasks/${taskId}/decision`, {
      method: 'POST',
      body: { approved: true, checkpoint: 'plan', requestId: request.id, comment: 'looks right' },
    });
    expect(decided).toMatchObject({
      status: 200,
      body: { taskId, requestId: request.id, checkpoint: 'plan', approved: true, reviewer: 'alice', channel: 'api', comment: 'looks right' },
    });

    // The task goes on to the pull request, and the audit row is written by the workflow's activity.
    const detail = await waitFor(async () => {
      const d = await detailOf(taskId);
      return d.state.pendingApproval?.checkpoint === 'pr' && d.approvals.length === 1 ? d : undefined;
    }, 'the PR checkpoint and the audit row');
    expect(detail.state.approvals[0]?.decision).toMatchObject({ approved: true, reviewer: 'alice', channel: 'api', comment: 'looks right' });
    expect(detail.approvals[0]).toMatchObject({ requestId: request.id, checkpoint: 'plan', approved: true, reviewer: 'alice', channel: 'api', comment: 'looks right' });

    // The diff of the pull request comes from the shared remote.
    const diff = await json<{ diff: string; pullRequest: boolean; truncated: boolean }>(`/api/tasks/${taskId}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({ pullRequest: true, truncated: false });
    expect(diff.body.diff).toContain('-module.exports = 1;');
    expect(diff.body.diff).toContain('+module.exports = 2;');
  });

  it('cancels a waiting task (202) and refuses to cancel it again (409)', async () => {
    const { taskId } = await taskWaitingAt('plan');
    expect(await json(`/api/tasks/${taskId}/cancel`, { method: 'POST', body: { reason: 'wrong repository' } })).toMatchObject({
      status: 202,
      body: { taskId, cancelRequested: true, requestedBy: 'alice' },
    });
    const state = await waitFor(async () => {
      const { state } = await detailOf(taskId);
      return state.phase === 'cancelled' ? state : undefined;
    }, 'the cancelled phase');
    expect(state.failure).toBe('Cancelled by alice: wrong repository');
    // The body is optional.
    expect((await json<Problem>(`/api/tasks/${taskId}/cancel`, { method: 'POST' })).body).toMatchObject({ status: 409, type: 'urn:ado:problem:decision-rejected' });
  });

  it('refuses to cancel a completed task (409), naming how it ended', async () => {
    const taskId = uniqueTaskId('api');
    expect((await json('/api/tasks', { method: 'POST', body: { taskId, prompt: 'Validate the signup form', repository } })).status).toBe(201);
    await env.client.workflow.getHandle(taskId).result();
    expect((await json<Problem>(`/api/tasks/${taskId}/cancel`, { method: 'POST' })).body).toMatchObject({
      status: 409,
      type: 'urn:ado:problem:decision-rejected',
      detail: `Task ${taskId} has finished (status: COMPLETED, phase: completed); there is nothing to cancel.`,
    });
  });
});

describe('recovery', () => {
  it('is 404 for migrating an unknown task, and 409 (nothing to resume from) for resuming one', async () => {
    const taskId = uniqueTaskId('unknown');
    const migrate = await json<Problem>(`/api/tasks/${taskId}/migrate`, { method: 'POST', body: { to: 'v2' } });
    expect(migrate).toMatchObject({ status: 404, body: { type: 'urn:ado:problem:task-not-found' } });
    // No checkpoint is the first thing resuming looks for; the CLI shows this detail.
    const resume = await json<Problem>(`/api/tasks/${taskId}/resume`, { method: 'POST' });
    expect(resume).toMatchObject({ status: 409, body: { type: 'urn:ado:problem:not-recoverable', detail: expect.stringContaining(`No checkpoint found for task ${taskId}`) } });
  });

  it('resumes nothing for a running task or a completed one, and says where it is', async () => {
    const { taskId } = await taskWaitingAt('plan');
    const running = await json(`/api/tasks/${taskId}/resume`, { method: 'POST', body: { strategy: 'auto' } });
    expect(running).toMatchObject({
      status: 200,
      body: { action: 'running', workflowId: taskId, runId: expect.any(String), phase: 'planning', message: expect.stringContaining('waiting for approval at "plan"') },
    });

    const done = uniqueTaskId('api');
    expect((await json('/api/tasks', { method: 'POST', body: { taskId: done, prompt: 'Validate the signup form', repository } })).status).toBe(201);
    await env.client.workflow.getHandle(done).result();
    // The body is optional.
    expect(await json(`/api/tasks/${done}/resume`, { method: 'POST' })).toMatchObject({
      status: 200,
      body: { action: 'completed', workflowId: done, message: `Task ${done} has completed; nothing to resume.` },
    });
  });

  it('migrates a waiting task to a new version (201): the old run is cancelled, the new one goes on from its state', async () => {
    const { taskId } = await taskWaitingAt('plan');
    const migrated = await json(`/api/tasks/${taskId}/migrate`, { method: 'POST', body: { to: 'v2' } });
    expect(migrated).toMatchObject({ status: 201, body: { taskId, workflowId: `${taskId}-migrated-v2`, version: 'v2' } });
    expect((await env.client.workflow.getHandle(taskId).describe()).status.name).toBe('CANCELLED');
    const state = await waitFor(async () => {
      const { state } = await detailOf(`${taskId}-migrated-v2`);
      return state.pendingApproval ? state : undefined;
    }, 'the migrated task waiting for approval');
    expect(state).toMatchObject({ taskId, plan: 'Plan for: Validate the signup form' });
  });
});

describe('events', () => {
  it('streams the state first, then the phase change and decision a console approval causes', async () => {
    const { taskId } = await taskWaitingAt('plan');
    const abort = new AbortController();
    const response = await request(`/api/tasks/${taskId}/events`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = sseEvents(response);
    const seen: Array<{ event: string; data: unknown }> = [];
    try {
      const first = (await events.next()).value;
      expect(first).toMatchObject({ event: 'state', data: { taskId, phase: 'planning', pendingApproval: { checkpoint: 'plan' } } });

      const decided = await json(`/api/tasks/${taskId}/decision`, { method: 'POST', body: { approved: true, checkpoint: 'plan', channel: 'console' } });
      expect(decided.status).toBe(200);
      for await (const event of events) {
        seen.push(event);
        if (event.event === 'phase' && (event.data as { phase: string }).phase === 'decomposing') break;
      }
    } finally {
      abort.abort();
    }
    expect(seen.find((e) => e.event === 'decision')?.data).toMatchObject({ decision: { approved: true, reviewer: 'alice', channel: 'console' } });
    expect(seen.at(-1)).toMatchObject({ event: 'phase', data: { phase: 'decomposing' } });
  });

  it('ends the stream with the outcome when the task ends', async () => {
    const { taskId } = await taskWaitingAt('plan');
    const response = await request(`/api/tasks/${taskId}/events`);
    await json(`/api/tasks/${taskId}/decision`, { method: 'POST', body: { approved: false, comment: 'not now' } });
    const names: string[] = [];
    let last: unknown;
    for await (const event of sseEvents(response)) {
      names.push(event.event);
      last = event.data;
    }
    expect(names.at(-1)).toBe('end');
    expect(last).toMatchObject({ ok: false, phase: 'failed', message: expect.stringContaining('Plan rejected by human reviewer (alice): not now') });
  });
});
