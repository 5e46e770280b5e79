/**
 * What `ado api` (and `ado dev`) serve from their environment: the Slack and webhook endpoints
 * are mounted when those channels are configured, over real HTTP. Nothing here reaches Temporal
 * or the store: a request with a bad signature is refused before it could.
 */
import type { Client } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdoStore } from '../store/types';
import { silentLogger } from '../telemetry/logger';
import { startApiForStack } from './launch';
import type { RunningApi } from './server';

const SLACK_ENV = {
  ADO_SLACK_BOT_TOKEN: 'xoxb-launch-test',
  ADO_SLACK_SIGNING_SECRET: 'slack-signing-secret-for-tests',
  ADO_SLACK_CHANNEL: 'C0APPROVALS',
  ADO_SLACK_API_URL: 'http://127.0.0.1:9/api/',
};
const WEBHOOK_ENV = { ADO_WEBHOOK_URLS: 'http://127.0.0.1:9/hook', ADO_WEBHOOK_SECRET: 'webhook-secret-for-tests' };

let api: RunningApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function start(env: NodeJS.ProcessEnv): Promise<RunningApi> {
  return startApiForStack({ client: {} as Client, store: {} as AdoStore, logger: silentLogger(), env, port: 0 });
}

const now = () => String(Math.floor(Date.now() / 1000));

function slackClick(url: string): Promise<Response> {
  return fetch(`${url}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': now(), 'x-slack-signature': 'v0=forged' },
    body: 'payload=%7B%7D',
  });
}

function webhookDecision(url: string): Promise<Response> {
  return fetch(`${url}/webhooks/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ado-timestamp': now(), 'x-ado-signature': 'v1=forged' },
    body: JSON.stringify({ taskId: 't', approved: true }),
  });
}

describe('startApiForStack', () => {
  it('serves POST /slack/interactions and POST /webhooks/decision when Slack and webhooks are configured (a bad signature is a 401)', async () => {
    api = await start({ ...SLACK_ENV, ...WEBHOOK_ENV });
    const slack = await slackClick(api.url);
    expect(slack.status).toBe(401);
    expect(await slack.json()).toMatchObject({ type: 'urn:ado:problem:invalid-signature' });
    const webhook = await webhookDecision(api.url);
    expect(webhook.status).toBe(401);
    expect(await webhook.json()).toMatchObject({ type: 'urn:ado:problem:invalid-signature' });
  });

  it('serves neither when the channels are not configured', async () => {
    api = await start({});
    expect((await slackClick(api.url)).status).toBe(404);
    expect((await webhookDecision(api.url)).status).toBe(404);
  });

  it('refuses a half-configured channel before listening', async () => {
    await expect(start({ ADO_SLACK_BOT_TOKEN: SLACK_ENV.ADO_SLACK_BOT_TOKEN })).rejects.toMatchObject({ message: expect.stringContaining('ADO_SLACK_SIGNING_SECRET') });
  });
});
