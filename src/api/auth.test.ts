/**
 * The API without tokens (loopback only) over real HTTP: open to this machine, closed to web pages
 * elsewhere that a browser here would otherwise relay (DNS rebinding, cross-site form posts).
 * Temporal and the store are stand-ins that record what the routes asked of them.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HITLHandler } from '../client/hitl-handler';
import type { TaskClient, TaskSummary } from '../client/task-client';
import type { AdoStore } from '../store/types';
import { silentLogger } from '../telemetry/logger';
import { startApiServer, type RunningApi } from './server';

const TASK = { taskId: 'task-1', phase: 'coding' } as unknown as TaskSummary;
const cancelled: Array<{ taskId: string; requestedBy?: string }> = [];

const tasks = { list: async () => [TASK] } as unknown as TaskClient;
const hitl = {
  getWorkflowState: async () => ({ phase: 'coding' }),
  cancelWorkflow: async (taskId: string, options: { requestedBy?: string }) => {
    cancelled.push({ taskId, requestedBy: options.requestedBy });
  },
} as unknown as HITLHandler;
const store = { tasks: { getMany: async () => [] } } as unknown as AdoStore;

let api: RunningApi;
let port: number;

beforeAll(async () => {
  api = await startApiServer({ tasks, hitl, store, auth: { tokens: [] }, logger: silentLogger(), host: '127.0.0.1', port: 0 });
  port = Number(new URL(api.url).port);
});
afterAll(async () => {
  await api?.close();
});

/** A request to the API with exactly these headers (fetch would not let a test set Host). */
function send(method: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const cancel = (headers: OutgoingHttpHeaders = {}) => send('POST', '/api/tasks/task-1/cancel', headers);

describe('the API without tokens', () => {
  it('answers a request from this machine without a token, and records the reviewer as "local"', async () => {
    const list = await send('GET', '/api/tasks');
    expect(list).toMatchObject({ status: 200, body: { tasks: [TASK] } });
    expect((await send('GET', '/api/tasks', { host: `localhost:${port}` })).status).toBe(200);

    cancelled.length = 0;
    const sameOrigin = await cancel({ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin).toMatchObject({ status: 202, body: { taskId: 'task-1', cancelRequested: true, requestedBy: 'local' } });
    // A client that is not a browser (curl, the CLI) sends no Origin.
    expect((await cancel()).status).toBe(202);
    expect(cancelled).toEqual([
      { taskId: 'task-1', requestedBy: 'local' },
      { taskId: 'task-1', requestedBy: 'local' },
    ]);
  });

  it('refuses a request addressed to another host name (DNS rebinding) with 403', async () => {
    const refused = await send('GET', '/api/tasks', { host: `attacker.example:${port}` });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: 'urn:ado:problem:forbidden', detail: expect.stringContaining('ADO_API_TOKENS') });
    expect(refused.body.detail).toContain('127.0.0.1');
  });

  it('refuses a cross-site POST with 403 and changes nothing', async () => {
    cancelled.length = 0;
    const fromOtherSite = await cancel({ origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' });
    expect(fromOtherSite.status).toBe(403);
    expect(fromOtherSite.body).toMatchObject({ type: 'urn:ado:problem:forbidden', detail: expect.stringContaining('ADO_API_TOKENS') });
    // Another port of this machine is another origin; so is an opaque one.
    expect((await cancel({ origin: `http://127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await cancel({ origin: 'null' })).status).toBe(403);
    // A browser that hides the origin still marks the request cross-site.
    expect((await cancel({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await send('POST', '/api/tasks/task-1/resume', { origin: 'https://attacker.example' })).status).toBe(403);
    expect(cancelled).toEqual([]);
  });
});
