/**
 * `POST /slack/interactions`: the Approve/Reject/Request changes buttons of ADO's Slack messages,
 * with what the reviewer typed in the message's comment box (Slack sends it with the click,
 * in `state.values`). Request changes is `ado reject --revise --comment …`: the same decision,
 * checked by the same rules (`decisionProblem`) before it is sent. Slack signs
 * each request (verified on the raw body, replays refused) and wants an answer within 3 s, so the
 * endpoint acknowledges at once and then does the work: the decision update, which waits for a
 * worker to run the task's workflow task (seconds when workers are busy or restarting), and the
 * message update, another round trip to Slack. Both are done when the server closes.
 */
import type { WebClient } from '@slack/web-api';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DecisionRejectedError, TaskNotFoundError } from '../../client/errors';
import type { HITLHandler } from '../../client/hitl-handler';
import type { ApprovalDecision, ApprovalRecord } from '../../domain/task';
import { parseButtonValue, settledMessage, SLACK_ACTIONS, SLACK_COMMENT, slackDate, slackEscape, slackFailure, type SlackAction, type SlackButtonValue } from '../../notifications/slack';
import { decisionProblem } from '../../workflows/messages';
import type { UsedSignatureRepository } from '../../store/types';
import type { Logger } from '../../telemetry/logger';
import { HttpProblem } from '../problems';
import { acceptSignedRequests } from './signed-requests';
import { SLACK_SIGNATURE } from '../../notifications/signature';

export interface SlackInteractionsDeps {
  signingSecret: string;
  /** Updates the clicked message; a bot token with `chat:write`. */
  slack: WebClient;
  hitl: Pick<HITLHandler, 'sendApproval' | 'getWorkflowState'>;
  /** The store's replay protection. */
  usedSignatures: UsedSignatureRepository;
  /** Slack user IDs whose clicks decide (ADO_SLACK_APPROVERS); absent: anyone's. */
  approvers?: readonly string[];
  logger: Logger;
}

/** The parts of a `block_actions` payload ADO reads. */
const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }),
  channel: z.object({ id: z.string() }).optional(),
  message: z.object({ ts: z.string(), text: z.string().optional(), blocks: z.array(z.unknown()).optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })),
  /** The message's input elements as the clicker left them: block id → action id → value (null when empty). */
  state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))) }).optional(),
});
type BlockActions = z.infer<typeof blockActionsSchema>;

interface Click {
  request: SlackButtonValue;
  action: SlackAction;
  /** What the clicker typed in the comment box, trimmed; undefined when nothing. */
  comment?: string;
  user: BlockActions['user'];
  /** Where the clicked message is, when the click came from a message. */
  message?: { channel: string; ts: string; text?: string; blocks?: unknown[] };
}

function badPayload(detail: string, cause?: unknown): HttpProblem {
  return new HttpProblem(400, 'invalid-slack-payload', 'Invalid Slack interaction', detail, undefined, { cause });
}

/** The ADO button click in `body`, or undefined for any other interaction (acknowledged and ignored). */
function parseClick(body: Buffer): Click | undefined {
  const field = new URLSearchParams(body.toString('utf8')).get('payload');
  if (field === null) throw badPayload('Expected a Slack interaction: a form field "payload" with JSON.');
  let json: unknown;
  try {
    json = JSON.parse(field);
  } catch (err) {
    throw badPayload('The "payload" field is not JSON.', err);
  }
  if ((json as { type?: unknown })?.type !== 'block_actions') return undefined;
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) throw badPayload(`Not a block_actions payload ADO can read: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`);
  const { user, channel, message, actions, state } = parsed.data;
  const names = Object.keys(SLACK_ACTIONS) as SlackAction[];
  const clicked = actions.map((a) => ({ ...a, name: names.find((n) => SLACK_ACTIONS[n] === a.action_id) })).find((a) => a.name !== undefined);
  if (!clicked?.name) return undefined;
  const request = parseButtonValue(clicked.value);
  if (!request) throw badPayload('The clicked button carries no ADO approval request.');
  const comment = state?.values[SLACK_COMMENT.blockId]?.[SLACK_COMMENT.actionId]?.value?.trim();
  return {
    request,
    action: clicked.name,
    ...(comment ? { comment } : {}),
    user,
    message: channel && message ? { channel: channel.id, ...message } : undefined,
  };
}

/** The decision a click asks for, as every channel sends it. */
function decisionOf(click: Click, reviewer: string): ApprovalDecision {
  const { request, action, comment } = click;
  return {
    approved: action === 'approve',
    requestId: request.requestId,
    checkpoint: request.checkpoint,
    reviewer,
    channel: 'slack',
    ...(comment ? { comment } : {}),
    ...(action === 'revise' ? { revise: true } : {}),
  };
}

/** "approval", "rejection" or "request for changes": what a decision is, in a sentence. */
function decisionNoun(decision: Pick<ApprovalDecision, 'approved' | 'revise'>): string {
  if (decision.revise) return 'request for changes';
  return decision.approved ? 'approval' : 'rejection';
}

/** "✅ Approved by <who> · <when>", with the comment quoted when there is one. */
function decidedLine(decision: Pick<ApprovalDecision, 'approved' | 'revise' | 'comment'>, who: string, atIso: string): string {
  const what = decision.revise ? '↺ Changes requested' : decision.approved ? '✅ Approved' : '❌ Rejected';
  const comment = decision.comment ? `: “${slackEscape(decision.comment)}”` : '';
  return `${what} by ${who} · ${slackDate(atIso)}${comment}`;
}

/** A decision recorded by any channel, as Slack shows it. */
function recordedLine({ decision, decidedAt }: ApprovalRecord): string {
  const who = `${slackEscape(decision.reviewer ?? 'someone')}${decision.channel ? ` via ${slackEscape(decision.channel)}` : ''}`;
  return decidedLine(decision, who, decidedAt);
}

/** Tells the clicker only (the message keeps its buttons for those who may decide). */
async function tellClicker(deps: SlackInteractionsDeps, click: Click, text: string): Promise<void> {
  if (!click.message) return;
  await deps.slack.chat
    .postEphemeral({ channel: click.message.channel, user: click.user.id, text })
    .catch((notice: unknown) => deps.logger.warn({ err: notice }, 'Could not tell the Slack user about their click'));
}

/**
 * Sends the click's decision, then settles the message: who decided, or why the click did not
 * count. A decision no task could take (Request changes without a comment) is not sent: the
 * clicker is told what to do and the message keeps its buttons.
 */
async function settle(deps: SlackInteractionsDeps, click: Click): Promise<void> {
  const { request, user } = click;
  const reviewer = user.username ?? user.name ?? user.id;
  const decision = decisionOf(click, reviewer);
  const noun = decisionNoun(decision);
  if (deps.approvers && !deps.approvers.includes(user.id)) {
    deps.logger.warn({ workflowId: request.workflowId, requestId: request.requestId, slackUser: user.id, reviewer }, 'Slack click from a user who is not an approver; ignored');
    await tellClicker(deps, click, `Your ${noun} of task ${request.workflowId} did not count: only the approvers ADO is configured with (ADO_SLACK_APPROVERS) decide here.`);
    return;
  }
  const problem = decisionProblem(decision);
  if (problem) {
    deps.logger.info({ workflowId: request.workflowId, requestId: request.requestId, reviewer, problem }, 'Slack click is not a decision the task can take; not sent');
    const what = problem.field === 'comment' ? ' Type it in the comment box of the message, then click again.' : '';
    await tellClicker(deps, click, `Your ${noun} of task ${request.workflowId} was not sent: ${problem.message}${what}`);
    return;
  }
  let line: string;
  try {
    await deps.hitl.sendApproval(request.workflowId, decision, { via: 'update' });
    line = decidedLine(decision, `<@${user.id}>`, new Date().toISOString());
    deps.logger.info({ workflowId: request.workflowId, requestId: request.requestId, approved: decision.approved, revise: decision.revise, reviewer }, 'Slack decision accepted');
  } catch (err) {
    if (!(err instanceof DecisionRejectedError || err instanceof TaskNotFoundError)) {
      // Temporal unreachable or similar: keep the buttons so the click can be repeated, and tell the clicker.
      await tellClicker(deps, click, `Your decision on task ${request.workflowId} did not reach it (${(err as Error).message.slice(0, 300)}). Try again in a moment.`);
      throw err;
    }
    const record = await earlierDecision(deps, request);
    const late = `<@${user.id}>'s ${noun} did not count: ${slackEscape(err.message)}`;
    line = record ? `${recordedLine(record)} — ${late}` : `⚠️ ${late}`;
    deps.logger.info({ workflowId: request.workflowId, requestId: request.requestId, reason: err.message }, 'Slack decision did not count');
  }
  if (click.message) {
    const { channel, ts } = click.message;
    await deps.slack.chat.update({ channel, ts, ...settledMessage(click.message, line) }).catch((err: unknown) => {
      throw slackFailure(err, `updating message ${ts} in ${channel}`);
    });
  }
}

/** The decision that settled `request` before this click, when the task still knows it. */
async function earlierDecision(deps: SlackInteractionsDeps, request: SlackButtonValue): Promise<ApprovalRecord | undefined> {
  try {
    const state = await deps.hitl.getWorkflowState(request.workflowId);
    return state.approvals.find((a) => a.request.id === request.requestId);
  } catch {
    return undefined;
  }
}

/**
 * The fastify plugin serving `POST /slack/interactions` (set it as the Slack app's Interactivity
 * Request URL). Register it without a prefix and outside any token authentication: Slack
 * authenticates by signature.
 */
export function slackInteractionsPlugin(deps: SlackInteractionsDeps): FastifyPluginAsync {
  return async (app) => {
    acceptSignedRequests(app, {
      scheme: SLACK_SIGNATURE,
      secret: deps.signingSecret,
      contentType: 'application/x-www-form-urlencoded',
      usedSignatures: deps.usedSignatures,
      logger: deps.logger,
    });
    const inFlight = new Set<Promise<void>>();
    app.addHook('onClose', async () => {
      await Promise.allSettled(inFlight);
    });

    app.post('/slack/interactions', async (request, reply) => {
      const click = parseClick(request.body as Buffer);
      if (click) {
        const work: Promise<void> = settle(deps, click)
          .catch((err: unknown) => deps.logger.error({ err, workflowId: click.request.workflowId }, 'Slack click could not be settled'))
          .finally(() => inFlight.delete(work));
        inFlight.add(work);
      }
      return reply.code(200).send();
    });
  };
}
