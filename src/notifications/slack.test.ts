import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_AFTER_SECONDS, startSlackApi, type SlackApiStandIn, type SlackBlock } from '../../test/fakes/slack-api';
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import { FailureType } from '../domain/errors';
import type { TaskExecutionState } from '../domain/task';
import { silentLogger } from '../telemetry/logger';
import { createSlackClient, parseButtonValue, SLACK_ACTIONS, SLACK_COMMENT, SlackNotifier } from './slack';

const TOKEN = 'xoxb-test-token';
let slack: SlackApiStandIn;
beforeAll(async () => {
  slack = await startSlackApi({ token: TOKEN, signingSecret: 'unused-here' });
});
afterAll(() => slack?.close());

function notifier(options: { postOutcomes?: boolean; token?: string } = {}): SlackNotifier {
  const client = createSlackClient({ botToken: options.token ?? TOKEN, apiUrl: slack.apiUrl, logger: silentLogger() });
  return new SlackNotifier({ client, channel: 'C0APPROVALS', postOutcomes: options.postOutcomes ?? true });
}

let sequence = 0;
function notice(context: string): ApprovalNotice {
  const id = `req-${++sequence}`;
  return {
    taskId: `task-${sequence}`,
    workflowId: `task-${sequence}`,
    repository: '/srv/repos/app',
    request: { id, checkpoint: 'plan', context, requestedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T10:30:00.000Z' },
  };
}

function postsFor(requestId: string) {
  return slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(requestId));
}

describe('SlackNotifier', () => {
  it("posts the design's Block Kit message: workflow, checkpoint and context, then Approve and Reject buttons that name the request", async () => {
    const request = notice('1. Add a zod schema to the signup handler\n2. Return 400 on bad input');
    await notifier().approvalRequested(request);

    const [post] = postsFor(request.request.id);
    expect(post?.args).toMatchObject({ channel: 'C0APPROVALS', text: expect.stringContaining('approval for plan') });
    const blocks = post?.args.blocks as SlackBlock[];
    expect(blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Workflow:* \`${request.workflowId}\`\n*Checkpoint:* plan\n\n${request.request.context}` },
    });
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => [e.action_id, e.style, typeof e.text === 'string' ? e.text : e.text?.text])).toEqual([
      [SLACK_ACTIONS.approve, 'primary', 'Approve ✓'],
      [SLACK_ACTIONS.reject, 'danger', 'Reject ✗'],
    ]);
    for (const button of actions?.elements ?? []) {
      expect(parseButtonValue(button.value)).toEqual({ workflowId: request.workflowId, requestId: request.request.id, checkpoint: 'plan' });
    }
  });

  it('at the pull request adds Request changes; every message has a comment box whose text goes with the click', async () => {
    const plain = notice('the plan');
    const pr: ApprovalNotice = { ...notice('fake://pr/1'), request: { ...notice('').request, checkpoint: 'pr' } };
    await notifier().approvalRequested(plain);
    await notifier().approvalRequested(pr);
    const blocksOf = (n: ApprovalNotice) => postsFor(n.request.id)[0]?.args.blocks as SlackBlock[];
    const buttons = (n: ApprovalNotice) => blocksOf(n).find((b) => b.type === 'actions')?.elements?.map((e) => [e.action_id, typeof e.text === 'string' ? e.text : e.text?.text]);
    expect(buttons(plain)).toEqual([
      [SLACK_ACTIONS.approve, 'Approve ✓'],
      [SLACK_ACTIONS.reject, 'Reject ✗'],
    ]);
    expect(buttons(pr)).toEqual([
      [SLACK_ACTIONS.approve, 'Approve ✓'],
      [SLACK_ACTIONS.reject, 'Reject ✗'],
      [SLACK_ACTIONS.revise, 'Request changes ↺'],
    ]);
    for (const n of [plain, pr]) {
      const input = blocksOf(n).find((b) => b.type === 'input');
      expect(input).toMatchObject({ block_id: SLACK_COMMENT.blockId, element: { type: 'plain_text_input', action_id: SLACK_COMMENT.actionId } });
    }
    expect(blocksOf(pr).find((b) => b.type === 'input')?.label?.text).toContain('to request changes');
  });

  it("escapes Slack markup in the context and cuts it to Slack's 3000-character limit", async () => {
    const request = notice(`<!channel> a & b ${'x'.repeat(5000)}`);
    await notifier().approvalRequested(request);

    const text = (postsFor(request.request.id)[0]?.args.blocks as SlackBlock[])[0]?.text?.text ?? '';
    expect(text).toContain('&lt;!channel&gt; a &amp; b');
    expect(text).toHaveLength(3000);
    expect(text.endsWith('…')).toBe(true);
  });

  it('posts a request once per worker when the activity is retried; a transient failure throws for the activity to retry', async () => {
    const request = notice('retry me');
    const slackNotifier = notifier();
    slack.failNext('chat.postMessage', 'internal_error');
    await expect(slackNotifier.approvalRequested(request)).rejects.toThrow(/internal_error/);
    await slackNotifier.approvalRequested(request);
    await slackNotifier.approvalRequested(request);
    expect(slack.messages().filter((m) => JSON.stringify(m.blocks).includes(request.request.id))).toHaveLength(1);

    slack.failNext('chat.postMessage', 'ratelimited');
    await expect(notifier().approvalRequested(notice('x'))).rejects.toMatchObject({ type: FailureType.RateLimited, options: { nextRetryDelayMs: RETRY_AFTER_SECONDS * 1000 } });
  });

  it('fails non-retryably, saying what to fix, when the token or the channel is wrong', async () => {
    await expect(notifier({ token: 'xoxb-revoked' }).approvalRequested(notice('x'))).rejects.toMatchObject({
      type: FailureType.InvalidConfig,
      nonRetryable: true,
      message: expect.stringContaining('(invalid_auth): Slack does not accept ADO_SLACK_BOT_TOKEN'),
    });
    slack.failNext('chat.postMessage', 'not_in_channel');
    await expect(notifier().approvalRequested(notice('x'))).rejects.toThrow('invite the Slack app to the channel');
  });

  it('posts a short outcome when a task ends, unless outcomes are turned off', async () => {
    const state = {
      taskId: 'task-done',
      repository: '/srv/repos/app',
      phase: 'failed',
      failure: 'Plan rejected by human reviewer (ana): <too broad>',
      attempts: 0,
      startedAt: '2026-01-01T10:00:00.000Z',
    } as TaskExecutionState;
    const ended: TaskOutcomeNotice = { taskId: 'task-done', workflowId: 'task-done', state };
    await notifier({ postOutcomes: false }).taskEnded(ended);
    expect(slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('task-done'))).toHaveLength(0);

    await notifier().taskEnded(ended);
    const [post] = slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('task-done'));
    expect(JSON.stringify(post?.args.blocks)).toContain('❌ Task `task-done` failed: Plan rejected by human reviewer (ana): &lt;too broad&gt;');
  });
});
