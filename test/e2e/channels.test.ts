/**
 * Every decision channel on the embedded stack — CLI, API, console, Slack, signed webhook and the
 * stock `temporal workflow signal` — ends in the same task update or signal, and each decision
 * lands in the store's approvals audit exactly once (a replayed or repeated one does not).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADO_SIGNATURE } from '../../src/notifications/signature';
import { SLACK_ACTIONS } from '../../src/notifications/slack';
import { connectClient } from '../../src/client/connection';
import { TaskClient } from '../../src/client/task-client';
import { startCodecServer, type CodecServer } from '../../src/api/codec-server';
import { AesGcmCodec } from '../../src/codec';
import { createSampleRepository } from '../../src/demo/sample-repository';
import { DEMO_QUEUE_PREFIX, DEMO_REPOSITORY, startEmbeddedStack, type EmbeddedStack } from '../../src/dev/stack';
import type { CheckpointName } from '../../src/domain/task';
import { silentLogger } from '../../src/telemetry/logger';
import { locateBinary, TEMPORAL_CLI } from '../../src/temporal/binaries';
import { freePort } from '../../src/temporal/ports';
import { startSlackApi, type SlackApiStandIn } from '../fakes/slack-api';
import { installTestRuntime } from '../helpers/temporal';
import { pendingApproval, waitFor } from '../helpers/workflow';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const home = mkdtempSync(path.join(os.tmpdir(), 'ado-channels-'));
const SLACK = { token: 'xoxb-ado-test-token', signingSecret: 'slack-signing-secret-for-tests' };
const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789';

let slack: SlackApiStandIn;
let receiver: http.Server;
let stack: EmbeddedStack;
let tasks: TaskClient;
let env: NodeJS.ProcessEnv;
/** The codec endpoint the stock CLI encrypts its signal through (workers refuse plaintext). */
let codec: CodecServer;

beforeAll(async () => {
  installTestRuntime();
  slack = await startSlackApi(SLACK);
  // Webhook notifications (approval requests, outcomes) need a receiver that answers 2xx.
  receiver = http.createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as { port: number }).port;
  env = {
    ...process.env,
    ADO_HOME: home,
    ADO_API_PORT: '0',
    ADO_SLACK_BOT_TOKEN: SLACK.token,
    ADO_SLACK_SIGNING_SECRET: SLACK.signingSecret,
    ADO_SLACK_CHANNEL: '#ado-approvals',
    ADO_SLACK_API_URL: slack.apiUrl,
    ADO_WEBHOOK_URLS: `http://127.0.0.1:${receiverPort}/hook`,
    ADO_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  stack = await startEmbeddedStack({ home, env, logger: silentLogger(), port: await freePort(), uiPort: false, namespace: 'default' });
  const client = await connectClient(stack.settings, { dataConverter: stack.plumbing.dataConverter });
  tasks = new TaskClient(client, DEMO_QUEUE_PREFIX);
  codec = await startCodecServer({ port: 0, codec: new AesGcmCodec(stack.plumbing.codecKeys!.keyring), corsOrigins: [], auth: { tokens: [] } });
});
afterAll(async () => {
  await codec?.close();
  await tasks?.client.connection.close();
  await stack?.stop();
  await slack?.close();
  receiver?.close();
  rmSync(home, { recursive: true, force: true });
});

async function startTask(label: string): Promise<string> {
  const taskId = `${label}-${Date.now().toString(36)}`;
  const repository = await createSampleRepository(DEMO_REPOSITORY, path.join(home, 'repos', taskId));
  await tasks.start({ taskId, prompt: 'Add input validation to the signup form', repository, branch: 'main', hitlEnabled: true });
  return taskId;
}

// Three tasks at once, each running its gates in the sandbox: give them time on two cores.
const waitAt = (taskId: string, checkpoint: CheckpointName) => pendingApproval(tasks.handle(taskId), checkpoint, 120_000);

function api(pathname: string, body: unknown) {
  return fetch(`${stack.apiUrl}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function signedWebhook(body: unknown) {
  const text = JSON.stringify(body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  return fetch(`${stack.apiUrl}/webhooks/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ado-timestamp': timestamp, 'x-ado-signature': ADO_SIGNATURE.sign(WEBHOOK_SECRET, timestamp, text) },
    body: text,
  });
}

async function slackClick(taskId: string, checkpoint: CheckpointName) {
  // The task is pending before its notification activity has posted: wait for the message.
  const message = await waitFor(
    async () => slack.messages().find((m) => m.text === `🤖 ADO requires approval for ${checkpoint} (task ${taskId})`),
    `the Slack message asking for ${checkpoint} of ${taskId}`,
  );
  const click = slack.click(message, SLACK_ACTIONS.approve, { id: 'U1', username: 'sam' });
  const send = () => fetch(`${stack.apiUrl}/slack/interactions`, { method: 'POST', headers: click.headers, body: click.body });
  expect((await send()).status).toBe(200);
  return send; // the same request again is a replay
}

async function audit(taskId: string): Promise<Array<{ checkpoint: string; channel: string; reviewer?: string; approved: boolean }>> {
  const detail = (await (await fetch(`${stack.apiUrl}/api/tasks/${taskId}`)).json()) as { approvals: Array<{ checkpoint: string; channel: string; reviewer?: string; approved: boolean }> };
  return detail.approvals.map(({ checkpoint, channel, reviewer, approved }) => ({ checkpoint, channel, reviewer, approved }));
}

describe('decision channels', () => {
  it('CLI, API, console, Slack, webhook and temporal workflow signal each record their decision once', async () => {
    const cliApi = (async () => {
      const taskId = await startTask('cli-api');
      await waitAt(taskId, 'plan');
      await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'approve', taskId, '--reviewer', 'cli-user'], { cwd: ROOT, env });
      await waitAt(taskId, 'pr');
      expect((await api(`/api/tasks/${taskId}/decision`, { approved: true, checkpoint: 'pr' })).status).toBe(200);
      // The same decision again: nothing is pending any more.
      expect((await api(`/api/tasks/${taskId}/decision`, { approved: true, checkpoint: 'pr' })).status).toBe(409);
      return taskId;
    })();
    const consoleSlack = (async () => {
      const taskId = await startTask('console-slack');
      await waitAt(taskId, 'plan');
      expect((await api(`/api/tasks/${taskId}/decision`, { approved: true, channel: 'console' })).status).toBe(200);
      await waitAt(taskId, 'pr');
      const replay = await slackClick(taskId, 'pr');
      await tasks.handle(taskId).result();
      expect((await replay()).status).toBe(401);
      return taskId;
    })();
    const signalWebhook = (async () => {
      const taskId = await startTask('signal-webhook');
      await waitAt(taskId, 'plan');
      const temporal = await locateBinary(TEMPORAL_CLI);
      await run(temporal, [
        'workflow', 'signal', '--address', stack.settings.address, '--codec-endpoint', codec.url, '--workflow-id', taskId, '--name', 'humanApproval',
        '--input', JSON.stringify({ approved: true, reviewer: 'ops', channel: 'temporal-cli' }),
      ]);
      const pr = await waitAt(taskId, 'pr');
      expect((await signedWebhook({ taskId, requestId: pr.id, approved: true, checkpoint: 'pr', reviewer: 'bot' })).status).toBe(200);
      return taskId;
    })();

    const [a, b, c] = await Promise.all([cliApi, consoleSlack, signalWebhook]);
    for (const taskId of [a, b, c]) expect((await tasks.handle(taskId).result()).pullRequest.merged).toBe(true);

    expect(await audit(a)).toEqual([
      { checkpoint: 'plan', channel: 'cli', reviewer: 'cli-user', approved: true },
      { checkpoint: 'pr', channel: 'api', reviewer: 'local', approved: true },
    ]);
    expect(await audit(b)).toEqual([
      { checkpoint: 'plan', channel: 'console', reviewer: 'local', approved: true },
      { checkpoint: 'pr', channel: 'slack', reviewer: 'sam', approved: true },
    ]);
    expect(await audit(c)).toEqual([
      { checkpoint: 'plan', channel: 'temporal-cli', reviewer: 'ops', approved: true },
      { checkpoint: 'pr', channel: 'webhook', reviewer: 'bot', approved: true },
    ]);
  });
});
