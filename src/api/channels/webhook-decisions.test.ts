import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities } from '../../../test/fakes/test-activities';
import { freshStoreLocation, type FreshStoreLocation } from '../../../test/helpers/postgres';
import { startLocalEnv, uniqueTaskId, withWorkers } from '../../../test/helpers/temporal';
import { pendingApproval, startTask, stateOf, taskInput, waitFor, type TaskHandle } from '../../../test/helpers/workflow';
import type { ApprovalNotice } from '../../domain/notices';
import { installProblemHandlers } from '../problems';
import { HITLHandler } from '../../client/hitl-handler';
import { WebhookNotifier, type ApprovalRequestedEvent } from '../../notifications/webhook';
import { openStore } from '../../store/open-store';
import type { AdoStore } from '../../store/types';
import { silentLogger } from '../../telemetry/logger';
import { webhookDecisionPlugin } from './webhook-decisions';

const SECRET = 'decision-secret-0123456789';

let env: TestWorkflowEnvironment;
let app: FastifyInstance;
let endpoint = '';
/** A real store (PGlite), whose used signatures outlive a restart of the endpoint. */
let storeLocation: FreshStoreLocation;
let store: AdoStore;
/** Where the notifier sends events: a loopback receiver that keeps them. */
let receiver: http.Server;
const events: ApprovalRequestedEvent[] = [];
let notifier: WebhookNotifier;

beforeAll(async () => {
  receiver = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      events.push(JSON.parse(body) as ApprovalRequestedEvent);
      response.writeHead(204).end();
    });
  });
  receiver.unref();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  notifier = new WebhookNotifier({ urls: [`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`], secret: SECRET });

  env = await startLocalEnv();
  storeLocation = await freshStoreLocation('pglite');
  store = await openStore(storeLocation.config);
  ({ app, endpoint } = await startEndpoint());
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  await storeLocation?.dispose();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await env?.teardown();
});

/** The endpoint as `ado api` serves it: problem documents for errors, the plugin at the root, the store's replay protection. */
async function startEndpoint(): Promise<{ app: FastifyInstance; endpoint: string }> {
  const server = fastify();
  installProblemHandlers(server, silentLogger());
  await server.register(webhookDecisionPlugin({ secret: SECRET, hitl: new HITLHandler(env.client), usedSignatures: store.usedSignatures, logger: silentLogger() }));
  return { app: server, endpoint: `${await server.listen({ host: '127.0.0.1', port: 0 })}/webhooks/decision` };
}

/** A request as a webhook receiver signs it: v1=HMAC-SHA256("{timestamp}.{body}"), computed here independently. */
function signed(decision: unknown, options: { secret?: string; timestamp?: number } = {}) {
  const body = JSON.stringify(decision);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = `v1=${createHmac('sha256', options.secret ?? SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/json', 'x-ado-timestamp': timestamp, 'x-ado-signature': signature } };
}

function send(request: { body: string; headers: Record<string, string> }): Promise<Response> {
  return fetch(endpoint, { method: 'POST', ...request });
}

/** A task whose approval requests go out through the real webhook notifier. */
function withWebhookTask(fn: (handle: TaskHandle) => Promise<void>): Promise<void> {
  const fake = createTestActivities();
  const activities = { ...fake.activities, requestHumanApproval: (notice: ApprovalNotice) => notifier.approvalRequested(notice) };
  return withWorkers(env, activities, async ({ queues }) => {
    const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
    await fn(handle);
    await handle.terminate('test done');
  });
}

describe('POST /webhooks/decision', () => {
  it('approves the request a receiver was sent, with a good signature, and records the webhook channel', async () => {
    await withWebhookTask(async (handle) => {
      const event = await waitFor(async () => events.find((e) => e.taskId === handle.workflowId), 'the approval.requested event');
      expect(event.request.checkpoint).toBe('plan');

      const response = await send(signed({ taskId: event.taskId, requestId: event.request.id, approved: true, reviewer: 'deploy-bot', comment: 'plan looks fine' }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ taskId: event.taskId, requestId: event.request.id, checkpoint: 'plan', approved: true });

      await pendingApproval(handle, 'pr');
      expect((await stateOf(handle)).approvals[0]?.decision).toEqual({
        approved: true,
        requestId: event.request.id,
        reviewer: 'deploy-bot',
        comment: 'plan looks fine',
        channel: 'webhook',
      });
    });
  });

  it('refuses a bad signature, a stale timestamp and a replay with 401, and the task still waits', async () => {
    await withWebhookTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const decision = { taskId: handle.workflowId, requestId: plan.id, approved: true };

      const forged = await send(signed(decision, { secret: 'someone-elses-secret' }));
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({ type: 'urn:ado:problem:invalid-signature', detail: expect.stringContaining('X-ADO-Signature does not match') });
      expect((await send(signed(decision, { timestamp: Math.floor(Date.now() / 1000) - 301 }))).status).toBe(401);

      // Signed correctly but for the wrong checkpoint: the task itself refuses it (409)...
      const wrongCheckpoint = signed({ ...decision, checkpoint: 'pr' });
      const refused = await send(wrongCheckpoint);
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { detail: string }).detail).toContain('waits at checkpoint "plan"');
      // ...and the same request again never reaches it.
      expect((await send(wrongCheckpoint)).status).toBe(401);

      const state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(plan.id);
      expect(state.approvals).toEqual([]);
    });
  });

  it('answers 404 for an unknown task, 400 naming a misspelt field, and 415 for a body that is not JSON', async () => {
    const unknown = await send(signed({ taskId: uniqueTaskId('missing'), requestId: 'r-1', approved: true }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'urn:ado:problem:task-not-found' });

    const misspelt = await send(signed({ taskId: 't', requestId: 'r-1', aproved: true }));
    expect(misspelt.status).toBe(400);
    const body = JSON.stringify(await misspelt.json());
    expect(body).toContain('approved');
    expect(body).toContain('aproved');

    const text = signed('approve');
    expect((await send({ ...text, headers: { ...text.headers, 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('refuses a signed decision that does not name the approval request it answers', async () => {
    await withWebhookTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const response = await send(signed({ taskId: handle.workflowId, approved: true, checkpoint: 'plan' }));
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain('requestId: required: the id of the approval request this decision answers');
      const state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(plan.id);
      expect(state.approvals).toEqual([]);
    });
  });

  it('refuses a decision replayed after the endpoint restarted, at the next checkpoint too', async () => {
    await withWebhookTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const approval = signed({ taskId: handle.workflowId, requestId: plan.id, approved: true });
      expect((await send(approval)).status).toBe(200);
      const pr = await pendingApproval(handle, 'pr');

      // A restart: the endpoint and the store closed and opened again; nothing is kept in memory.
      await app.close();
      await store.close();
      store = await openStore(storeLocation.config);
      ({ app, endpoint } = await startEndpoint());

      const replay = await send(approval);
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { detail: string }).detail).toContain('received before');
      const state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(pr.id);
      expect(state.approvals.map((a) => a.request.checkpoint)).toEqual(['plan']);
    });
  });
});
