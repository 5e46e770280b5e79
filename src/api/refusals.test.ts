/**
 * What the API refuses, and how, in process (fastify's `inject`: no socket, no Temporal server):
 * tokens, request validation, unknown tasks, and failures as problem documents. The task client,
 * HITL handler and store are stand-ins that answer as they would for a task nobody started.
 * Decisions, events and recovery run against a real server in server.test.ts.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskNotFoundError, TemporalUnreachableError } from '../client/errors';
import type { HITLHandler } from '../client/hitl-handler';
import type { TaskClient } from '../client/task-client';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { AdoStore } from '../store/types';
import { silentLogger } from '../telemetry/logger';
import { buildApiServer } from './server';

const TOKEN = 'in-process-test-token-0123456789';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: Array<{ field: string; message: string }>;
}

const unknownTask = (taskId: string) => new TaskNotFoundError(taskId, 'default');

/** Stand-ins for a Temporal namespace and a store that hold no task; `tasks` replaces what a test needs. */
function standIns(tasks: Partial<Record<keyof TaskClient, unknown>> = {}) {
  return {
    tasks: {
      list: async () => [],
      state: async (taskId: string) => Promise.reject(unknownTask(taskId)),
      report: async (taskId: string) => Promise.reject(unknownTask(taskId)),
      start: async () => Promise.reject(new Error('no task is started in these tests')),
      ...tasks,
    } as unknown as TaskClient,
    hitl: {
      sendApproval: async (taskId: string) => Promise.reject(unknownTask(taskId)),
      cancelWorkflow: async (taskId: string) => Promise.reject(unknownTask(taskId)),
    } as unknown as HITLHandler,
    store: { tasks: { getMany: async () => [] } } as unknown as AdoStore,
  };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function api(tasks?: Partial<Record<keyof TaskClient, unknown>>): Promise<FastifyInstance> {
  app = await buildApiServer({ ...standIns(tasks), auth: { tokens: [{ name: 'alice', token: TOKEN }] }, logger: silentLogger() });
  return app;
}

/** `options` sent with `token` as bearer token (`null`: no Authorization header). */
async function call(
  server: FastifyInstance,
  options: InjectOptions,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Problem; type: string | undefined; headers: Record<string, unknown> }> {
  const response = await server.inject({ ...options, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json<Problem>(), type: response.headers['content-type'] as string | undefined, headers: response.headers };
}

describe('authentication', () => {
  it('answers /healthz without a token', async () => {
    const response = await (await api()).inject({ url: '/healthz' });
    expect({ status: response.statusCode, body: response.json() }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('refuses /api routes without a token (401) and with a wrong one (403), as problem documents', async () => {
    const server = await api();
    const missing = await call(server, { url: '/api/tasks' }, null);
    expect(missing).toMatchObject({ status: 401, type: expect.stringContaining('application/problem+json'), body: { type: 'urn:ado:problem:unauthorized', status: 401 } });
    expect(missing.headers['www-authenticate']).toContain('Bearer');

    const wrong = await call(server, { url: '/api/tasks' }, `${TOKEN.slice(0, -1)}x`);
    expect(wrong).toMatchObject({ status: 403, body: { type: 'urn:ado:problem:forbidden', status: 403 } });
    const decision = await call(server, { method: 'POST', url: '/api/tasks/some-task/decision', payload: { approved: true } }, 'not-a-token');
    expect(decision.status).toBe(403);
  });
});

describe('validation', () => {
  const fieldsOf = async (options: InjectOptions) => {
    const { status, body, type } = await call(await api(), options);
    expect({ status, type, problem: body.type }).toEqual({ status: 400, type: expect.stringContaining('application/problem+json'), problem: 'urn:ado:problem:validation' });
    return body.errors?.map((e) => e.field);
  };
  const start = (payload: Record<string, unknown>): InjectOptions => ({ method: 'POST', url: '/api/tasks', payload: { repository: '/srv/repo', ...payload } });

  it('names the missing, mistyped or unknown field in a 400 problem', async () => {
    expect(await fieldsOf(start({}))).toEqual(['prompt']);
    expect(await fieldsOf(start({ prompt: '   ' }))).toEqual(['prompt']);
    expect(await fieldsOf(start({ prompt: 'x', maxIterations: 0 }))).toEqual(['maxIterations']);
    expect(await fieldsOf(start({ prompt: 'x', hitlEnabled: true }))).toEqual(['hitlEnabled']);
    expect(await fieldsOf(start({ prompt: 'x', approvalTimeout: 'soon' }))).toEqual(['approvalTimeout']);
    expect(await fieldsOf(start({ prompt: 'x', budget: { maxTotalTokens: -1 } }))).toEqual(['budget.maxTotalTokens']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/decision', payload: { approved: 'yes' } })).toEqual(['approved']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/decision', payload: { approved: true, checkpoint: 'lunch' } })).toEqual(['checkpoint']);
    expect(await fieldsOf({ url: '/api/tasks?limit=500' })).toEqual(['limit']);
    expect(await fieldsOf({ url: '/api/tasks?phase=sleeping' })).toEqual(['phase']);
    expect(await fieldsOf({ url: '/api/tasks/bad%20id' })).toEqual(['taskId']);
  });

  it('names the field of a bad resume or migrate body', async () => {
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/resume', payload: { strategy: 'sometimes' } })).toEqual(['strategy']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/resume', payload: { strategy: 'reset', force: true } })).toEqual(['force']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/migrate', payload: {} })).toEqual(['to']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/migrate', payload: { to: 'v2 final!' } })).toEqual(['to']);
    expect(await fieldsOf({ method: 'POST', url: '/api/tasks/t-1/migrate' })).toEqual(['body']);
  });

  it('rejects a repository that is not a git repository, naming the field, and starts nothing', async () => {
    const { status, body } = await call(await api(), start({ prompt: 'x', repository: '/no/such/repository' }));
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ field: 'repository', message: expect.stringContaining('does not exist') }]);
  });
});

describe('unknown tasks and routes', () => {
  it('is 404 for an unknown task, on every route', async () => {
    const server = await api();
    for (const options of [
      { url: '/api/tasks/nobody' },
      { url: '/api/tasks/nobody/diff' },
      { url: '/api/tasks/nobody/events' },
      { method: 'POST', url: '/api/tasks/nobody/decision', payload: { approved: true } },
      { method: 'POST', url: '/api/tasks/nobody/cancel', payload: {} },
    ] satisfies InjectOptions[]) {
      const { status, body } = await call(server, options);
      expect({ url: options.url, status, type: body.type, detail: body.detail }).toEqual({
        url: options.url,
        status: 404,
        type: 'urn:ado:problem:task-not-found',
        detail: expect.stringContaining('No task with id "nobody"'),
      });
    }
  });

  it('is a 404 problem that points at /api/tasks for a path the API does not have', async () => {
    const { status, body } = await call(await api(), { url: '/api/nothing-here?x=1' });
    expect({ status, type: body.type, detail: body.detail }).toEqual({ status: 404, type: 'urn:ado:problem:not-found', detail: expect.stringContaining('/api/tasks') });
  });
});

describe('failures as problem documents', () => {
  const listFailing = async (err: Error) => call(await api({ list: async () => Promise.reject(err) }), { url: '/api/tasks' });

  it('answers an AdoError with the status of its failure type and its message', async () => {
    expect((await listFailing(new TemporalUnreachableError('127.0.0.1:7233'))).body).toMatchObject({
      status: 503,
      type: 'urn:ado:problem:temporal-unreachable',
      detail: expect.stringContaining('Cannot reach the Temporal server at 127.0.0.1:7233'),
    });
    expect((await listFailing(nonRetryable(FailureType.InvalidInput, 'Task list limit must be a positive integer, got 0.'))).body).toMatchObject({
      status: 400,
      detail: 'Task list limit must be a positive integer, got 0.',
    });
    expect((await listFailing(new AdoError(FailureType.StoreOpenFailed, 'Cannot open the ADO store (db:5432): refused.'))).body).toMatchObject({
      status: 503,
      type: 'urn:ado:problem:store-unavailable',
    });
    expect((await listFailing(new AdoError(FailureType.LlmUnavailable, 'The planner endpoint is overloaded.'))).body).toMatchObject({
      status: 500,
      type: 'urn:ado:problem:llm-unavailable',
      detail: 'The planner endpoint is overloaded.',
    });
  });

  it('answers anything else with a 500 that tells nothing internal', async () => {
    const { status, body } = await listFailing(new Error('password=hunter2 in /etc/ado/secret.env'));
    expect({ status, type: body.type }).toEqual({ status: 500, type: 'urn:ado:problem:internal' });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });
});
