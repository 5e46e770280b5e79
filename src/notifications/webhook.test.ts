import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/postgres';
import type { ApprovalNotice } from '../domain/notices';
import type { TaskExecutionState } from '../domain/task';
import { WebhookDeliveryError, WebhookNotifier, type ApprovalRequestedEvent, type TaskEndedEvent } from './webhook';

const SECRET = 'webhook-secret-0123456789';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether X-ADO-Signature matches, checked the way a receiver would (independently of ADO's code). */
  signatureValid: boolean;
}

/** A receiver on loopback: records deliveries; a path starting with /fail-<status> answers that status. */
let received: Received[] = [];
let server: http.Server;
let base = '';
beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const timestamp = String(request.headers['x-ado-timestamp']);
      const expected = `v1=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      received.push({ path: request.url ?? '', headers: request.headers, body, signatureValid: request.headers['x-ado-signature'] === expected });
      const status = Number(/^\/fail-(\d{3})/.exec(request.url ?? '')?.[1] ?? 204);
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 204 ? undefined : 'receiver is down for maintenance');
    });
  });
  server.unref();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

const approval: ApprovalNotice = {
  taskId: 'task-hook',
  workflowId: 'task-hook',
  repository: '/srv/repos/app',
  request: { id: 'req-1', checkpoint: 'pr', context: 'PR #1: fake://pr/task-hook', requestedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T10:30:00.000Z' },
};

describe('WebhookNotifier', () => {
  it('POSTs the approval request as JSON signed with v1=HMAC("{timestamp}.{body}"), with a delivery id that stays the same on retry', async () => {
    received = [];
    const notifier = new WebhookNotifier({ urls: [`${base}/hook`], secret: SECRET });
    await notifier.approvalRequested(approval);
    await notifier.approvalRequested(approval);

    expect(received).toHaveLength(2);
    const [first, second] = received;
    expect(first?.signatureValid).toBe(true);
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers['x-ado-event']).toBe('approval.requested');
    expect(Math.abs(Number(first?.headers['x-ado-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    const event = JSON.parse(first?.body ?? '') as ApprovalRequestedEvent;
    expect(event).toMatchObject({ type: 'approval.requested', taskId: 'task-hook', request: { id: 'req-1', checkpoint: 'pr' } });
    expect(first?.headers['x-ado-delivery']).toBe(event.deliveryId);
    expect(second?.headers['x-ado-delivery']).toBe(event.deliveryId);
  });

  it('sends a task.ended event with the phase and the pull request', async () => {
    received = [];
    const state = {
      taskId: 'task-hook',
      repository: '/srv/repos/app',
      phase: 'completed',
      attempts: 2,
      usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
      pullRequest: { url: 'fake://pr/task-hook' },
      startedAt: '2026-01-01T10:00:00.000Z',
      updatedAt: '2026-01-01T10:20:00.000Z',
    } as TaskExecutionState;
    await new WebhookNotifier({ urls: [`${base}/hook`], secret: SECRET }).taskEnded({ taskId: 'task-hook', workflowId: 'task-hook', state });

    expect(received[0]?.signatureValid).toBe(true);
    expect(JSON.parse(received[0]?.body ?? '')).toMatchObject({
      type: 'task.ended',
      phase: 'completed',
      pullRequestUrl: 'fake://pr/task-hook',
      iterations: 2,
      endedAt: '2026-01-01T10:20:00.000Z',
    } satisfies Partial<TaskEndedEvent>);
  });

  it('throws naming each receiver that answered non-2xx or could not be reached (so the activity retries), after trying all', async () => {
    received = [];
    const closedPort = await freePort();
    const urls = [`${base}/hook`, `${base}/fail-503/secret-path-token`, `http://127.0.0.1:${closedPort}/hook`];
    const error = await new WebhookNotifier({ urls, secret: SECRET }).approvalRequested(approval).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WebhookDeliveryError);
    const delivery = error as WebhookDeliveryError;
    expect(delivery.message).toContain('failed for 2 of 3 receiver(s)');
    expect(delivery.failures).toEqual([
      { receiver: `#2 (${base})`, status: 503, reason: 'answered 503 Service Unavailable: receiver is down for maintenance' },
      { receiver: `#3 (http://127.0.0.1:${closedPort})`, status: undefined, reason: 'could not be reached (ECONNREFUSED)' },
    ]);
    expect(delivery.message).not.toContain('secret-path-token');
    expect(received.map((r) => r.path)).toEqual(expect.arrayContaining(['/hook', '/fail-503/secret-path-token']));
  });
});
