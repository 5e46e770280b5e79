import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackApi, type SlackApiStandIn, type SlackMessage, type SlackUser } from '../../../test/fakes/slack-api';
import { createTestActivities } from '../../../test/fakes/test-activities';
import { memoryUsedSignatures } from '../../../test/fakes/used-signatures';
import { startLocalEnv, withWorkers } from '../../../test/helpers/temporal';
import { expectReplays, failureOf, pendingApproval, startTask, stateOf, taskInput, waitFor, type TaskHandle } from '../../../test/helpers/workflow';
import type { ApprovalNotice } from '../../domain/notices';
import { installProblemHandlers } from '../problems';
import { HITLHandler } from '../../client/hitl-handler';
import { FailureType } from '../../domain/errors';
import { createSlackClient, SLACK_ACTIONS, SLACK_COMMENT, SlackNotifier } from '../../notifications/slack';
import { silentLogger } from '../../telemetry/logger';
import { slackInteractionsPlugin } from './slack-interactions';

const TOKEN = 'xoxb-interactions-test';
const SIGNING_SECRET = 'slack-signing-secret-for-tests';
const ANA: SlackUser = { id: 'U0ANA', username: 'ana' };
const BO: SlackUser = { id: 'U0BO', username: 'bo' };

let env: TestWorkflowEnvironment;
let slack: SlackApiStandIn;
let app: FastifyInstance;
let endpoint = '';
let approversApp: FastifyInstance;
let approversEndpoint = '';
let hitl: HITLHandler;
let notifier: SlackNotifier;

beforeAll(async () => {
  [env, slack] = await Promise.all([startLocalEnv(), startSlackApi({ token: TOKEN, signingSecret: SIGNING_SECRET })]);
  hitl = new HITLHandler(env.client);
  const client = createSlackClient({ botToken: TOKEN, apiUrl: slack.apiUrl, logger: silentLogger() });
  notifier = new SlackNotifier({ client, channel: 'C0APPROVALS', postOutcomes: false });
  // As the API server serves it: problem documents for errors, the plugin at the root.
  app = fastify();
  installProblemHandlers(app, silentLogger());
  await app.register(slackInteractionsPlugin({ signingSecret: SIGNING_SECRET, slack: client, hitl, usedSignatures: memoryUsedSignatures(), logger: silentLogger() }));
  endpoint = `${await app.listen({ host: '127.0.0.1', port: 0 })}/slack/interactions`;
  // The same endpoint where only Ana's clicks decide (ADO_SLACK_APPROVERS).
  approversApp = fastify();
  installProblemHandlers(approversApp, silentLogger());
  await approversApp.register(
    slackInteractionsPlugin({ signingSecret: SIGNING_SECRET, slack: client, hitl, usedSignatures: memoryUsedSignatures(), approvers: [ANA.id], logger: silentLogger() }),
  );
  approversEndpoint = `${await approversApp.listen({ host: '127.0.0.1', port: 0 })}/slack/interactions`;
});
afterAll(async () => {
  await app?.close();
  await approversApp?.close();
  await slack?.close();
  await env?.teardown();
});

/** The fake activities of the task `withSlackTask` runs now (what each was given). */
let fake: ReturnType<typeof createTestActivities>;

/** A task whose approval requests are posted to the Slack stand-in by the real notifier. */
function withSlackTask(fn: (handle: TaskHandle) => Promise<void>): Promise<void> {
  fake = createTestActivities();
  const activities = { ...fake.activities, requestHumanApproval: (notice: ApprovalNotice) => notifier.approvalRequested(notice) };
  return withWorkers(env, activities, async ({ queues }) => fn(await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }))));
}

/** The message posted for approval request `requestId`. */
function messageFor(requestId: string): Promise<SlackMessage> {
  return waitFor(async () => slack.messages().find((m) => JSON.stringify(m.blocks).includes(requestId)), `the Slack message for request ${requestId}`);
}

/** The message's settled line, once the endpoint has updated it. */
function settledLine(message: SlackMessage): Promise<string> {
  return waitFor(async () => {
    const now = slack.messages().find((m) => m.ts === message.ts);
    if (!now || now.blocks.some((b) => b.type === 'actions')) return undefined;
    return JSON.stringify(now.blocks.at(-1));
  }, `the update of message ${message.ts}`);
}

function send(request: { body: string; headers: Record<string, string> }, to = endpoint): Promise<Response> {
  return fetch(to, { method: 'POST', ...request });
}

describe('POST /slack/interactions', () => {
  it('turns a signed Approve click into the decision for exactly that request, and shows on the message who decided; Reject stops the task', async () => {
    await withSlackTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const planMessage = await messageFor(plan.id);
      expect((await send(slack.click(planMessage, SLACK_ACTIONS.approve, ANA))).status).toBe(200);

      const pr = await pendingApproval(handle, 'pr');
      expect((await stateOf(handle)).approvals.map((a) => ({ requestId: a.request.id, ...a.decision }))).toEqual([
        { requestId: plan.id, approved: true, checkpoint: 'plan', reviewer: 'ana', channel: 'slack' },
      ]);
      expect(await settledLine(planMessage)).toContain('✅ Approved by <@U0ANA>');

      const prMessage = await messageFor(pr.id);
      expect((await send(slack.click(prMessage, SLACK_ACTIONS.reject, BO))).status).toBe(200);
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.Rejected);
      expect(failure.message).toContain('(bo)');
      expect(await settledLine(prMessage)).toContain('❌ Rejected by <@U0BO>');
    });
  });

  it('refuses a wrong signature, a stale timestamp, a tampered body and a replayed click with 401, and nothing changes', async () => {
    await withSlackTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const message = await messageFor(plan.id);
      const updates = () => slack.callsTo('chat.update').filter((c) => c.args.ts === message.ts).length;

      const forged = await send(slack.click(message, SLACK_ACTIONS.approve, ANA, { secret: 'not-the-signing-secret' }));
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({ type: 'urn:ado:problem:invalid-signature', detail: expect.stringContaining('does not match') });
      const stale = await send(slack.click(message, SLACK_ACTIONS.approve, ANA, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }));
      expect(stale.status).toBe(401);
      expect(((await stale.json()) as { detail: string }).detail).toContain('X-Slack-Request-Timestamp');
      const click = slack.click(message, SLACK_ACTIONS.approve, ANA);
      expect((await send({ ...click, body: click.body.replace('U0ANA', 'U0EVE') })).status).toBe(401);

      let state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(plan.id);
      expect(state.approvals).toEqual([]);
      expect(updates()).toBe(0);

      expect((await send(click)).status).toBe(200);
      const pr = await pendingApproval(handle, 'pr');
      await settledLine(message);
      const replay = await send(click);
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { detail: string }).detail).toContain('received before');

      state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(pr.id);
      expect(state.approvals).toHaveLength(1);
      expect(updates()).toBe(1);
      await handle.terminate('test done');
    });
  });

  it('says on the message when a click came after the request was decided elsewhere, naming who decided', async () => {
    await withSlackTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const message = await messageFor(plan.id);
      await hitl.sendApproval(handle.workflowId, { approved: true, requestId: plan.id, reviewer: 'carol', channel: 'cli' });
      await pendingApproval(handle, 'pr');

      expect((await send(slack.click(message, SLACK_ACTIONS.reject, BO))).status).toBe(200);
      const line = await settledLine(message);
      expect(line).toContain('✅ Approved by carol via cli');
      expect(line).toContain("<@U0BO>'s rejection did not count");
      expect((await stateOf(handle)).approvals.map((a) => a.decision.reviewer)).toEqual(['carol']);
    });
  });

  it('acknowledges interactions that are not ADO buttons and refuses a signed body without a payload', async () => {
    const other: SlackMessage = { channel: 'C0OTHER', ts: '1.000001', blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'vote', value: 'yes' }] }] };
    const callsBefore = slack.calls.length;
    expect((await send(slack.click(other, 'vote', ANA))).status).toBe(200);
    expect((await send(slack.sign(`payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission', user: { id: 'U0ANA' } }))}`))).status).toBe(200);

    const bare = await send(slack.sign('command=%2Fado&text=approve'));
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ type: 'urn:ado:problem:invalid-slack-payload', detail: expect.stringContaining('"payload"') });
    expect(slack.calls.length).toBe(callsBefore);
  });

  it('with approvers configured, a click from anyone else does not count: the clicker is told, the task still waits', async () => {
    await withSlackTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const message = await messageFor(plan.id);
      const ephemerals = () => slack.callsTo('chat.postEphemeral').filter((c) => c.args.user === BO.id);
      expect((await send(slack.click(message, SLACK_ACTIONS.approve, BO), approversEndpoint)).status).toBe(200);
      await waitFor(async () => (ephemerals().length > 0 ? true : undefined), "the note to Bo that his click did not count");
      expect(String(ephemerals()[0]?.args.text)).toContain('only the approvers ADO is configured with (ADO_SLACK_APPROVERS) decide here');
      let state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(plan.id);
      expect(state.approvals).toEqual([]);

      expect((await send(slack.click(message, SLACK_ACTIONS.approve, ANA), approversEndpoint)).status).toBe(200);
      await pendingApproval(handle, 'pr');
      state = await stateOf(handle);
      expect(state.approvals.map((a) => a.decision.reviewer)).toEqual(['ana']);
      await handle.terminate('test done');
    });
  });

  it('Request changes at the pull request sends the comment typed in the message with revise: the task goes back to coding with it, as `ado reject --revise` does', async () => {
    await withSlackTask(async (handle) => {
      const plan = await pendingApproval(handle, 'plan');
      const planMessage = await messageFor(plan.id);
      // Only the pull request can be sent back: the plan's message has no such button, but a comment box.
      expect(planMessage.blocks.find((b) => b.type === 'actions')?.elements?.map((e) => e.action_id)).toEqual([SLACK_ACTIONS.approve, SLACK_ACTIONS.reject]);
      expect(planMessage.blocks.find((b) => b.type === 'input')?.element?.action_id).toBe(SLACK_COMMENT.actionId);
      expect((await send(slack.click(planMessage, SLACK_ACTIONS.approve, ANA))).status).toBe(200);

      const pr = await pendingApproval(handle, 'pr');
      const prMessage = await messageFor(pr.id);
      const earlier = slack.callsTo('chat.postEphemeral').length;
      const ephemerals = () => slack.callsTo('chat.postEphemeral').slice(earlier).filter((c) => c.args.user === BO.id);

      // Without a comment the decision is not sent (the rules every channel checks): Bo is told what to do, the task still waits.
      expect((await send(slack.click(prMessage, SLACK_ACTIONS.revise, BO, { typed: { [SLACK_COMMENT.actionId]: '   ' } }))).status).toBe(200);
      await waitFor(async () => (ephemerals().length > 0 ? true : undefined), 'the note to Bo that his request for changes needs a comment');
      expect(String(ephemerals()[0]?.args.text)).toContain('needs a comment saying what to change');
      expect(String(ephemerals()[0]?.args.text)).toContain('Type it in the comment box of the message');
      expect((await stateOf(handle)).pendingApproval?.id).toBe(pr.id);

      const comment = 'Also reject emails with spaces & say <why> in the message';
      expect((await send(slack.click(prMessage, SLACK_ACTIONS.revise, BO, { typed: { [SLACK_COMMENT.actionId]: `  ${comment}\n` } }))).status).toBe(200);
      // Back to coding: the next code iteration is given the comment, then the task asks again at pr.
      const again = await waitFor(async () => {
        const request = (await stateOf(handle)).pendingApproval;
        return request?.checkpoint === 'pr' && request.id !== pr.id ? request : undefined;
      }, 'the pr checkpoint after the revision');
      const state = await stateOf(handle);
      expect(state.revisions).toBe(1);
      expect(state.approvals.map((a) => ({ requestId: a.request.id, ...a.decision }))).toEqual([
        { requestId: plan.id, approved: true, checkpoint: 'plan', reviewer: 'ana', channel: 'slack' },
        { requestId: pr.id, approved: false, revise: true, comment, checkpoint: 'pr', reviewer: 'bo', channel: 'slack' },
      ]);
      const codeInputs = fake.calls.filter((c) => c.name === 'generateCode').map((c) => (c.input as { guidance?: string[] }).guidance ?? []);
      expect(codeInputs.at(-1)).toContain(`A reviewer asked for changes to the pull request: ${comment}`);
      const line = await settledLine(prMessage);
      expect(line).toContain('↺ Changes requested by <@U0BO>');
      expect(line).toContain('Also reject emails with spaces &amp; say &lt;why&gt; in the message');

      // The next pr message approves with a comment from its box.
      const againMessage = await messageFor(again.id);
      expect((await send(slack.click(againMessage, SLACK_ACTIONS.approve, ANA, { typed: { [SLACK_COMMENT.actionId]: 'thanks' } }))).status).toBe(200);
      expect((await handle.result()).status).toBe('completed');
      // The revise marker sits where a replay finds it, whenever its local activity finished.
      await expectReplays(handle);
      const recorded = fake.calls.filter((c) => c.name === 'recordApprovalDecision').map((c) => (c.input as { decision?: object }).decision);
      expect(recorded.at(-1)).toMatchObject({ approved: true, comment: 'thanks', reviewer: 'ana' });
    });
  });
});
