/**
 * Slack: the approval request as the design's Block Kit message (docs/architecture.md; Approve/Reject buttons that answer
 * exactly that request, a comment box, and at the pull request a "Request changes" button), an
 * optional short outcome when a task ends, and the message shapes the interactions endpoint
 * (src/api/channels/slack-interactions.ts) uses to settle a request's message.
 */
import { format } from 'node:util';
import { LogLevel, WebAPIPlatformError, WebAPIRateLimitedError, WebClient, type KnownBlock, type Logger as SlackLogger } from '@slack/web-api';
import { z } from 'zod';
import type { ApprovalNotice, TaskOutcomeNotice } from '../domain/notices';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { CHECKPOINTS, type CheckpointName } from '../domain/task';
import type { Logger } from '../telemetry/logger';
import type { Notifier } from './notifier';

/** Slack's limit for a section's or a context element's text. */
const MAX_TEXT = 3000;
const MAX_REPOSITORY = 300;
/** Request ids remembered per worker, so a retried activity does not post the same request twice. */
const REMEMBERED_POSTS = 1000;

/**
 * `action_id`s of the buttons: which one was clicked is the decision. `revise` (at `pr` only) is a
 * rejection that sends the task back to coding with the comment (`ado reject --revise`).
 */
export const SLACK_ACTIONS = { approve: 'ado_approve', reject: 'ado_reject', revise: 'ado_revise' } as const;
export type SlackAction = keyof typeof SLACK_ACTIONS;
const DECISION_BLOCK_ID = 'ado_decision';
/** Where the message's comment box is: a click carries what is typed there in `state.values[block][action]`. */
export const SLACK_COMMENT = { blockId: 'ado_comment', actionId: 'ado_comment_text' } as const;
/** Slack's limit for a plain_text_input (and the comment a reviewer can give here). */
const MAX_COMMENT = 3000;

/** What each button carries, so a click answers one request of one task. */
export interface SlackButtonValue {
  workflowId: string;
  requestId: string;
  checkpoint: CheckpointName;
}

const buttonValueSchema = z.object({ workflowId: z.string().min(1), requestId: z.string().min(1), checkpoint: z.enum(CHECKPOINTS) });

/** The request a button answers, or undefined when `value` is not one of ADO's buttons. */
export function parseButtonValue(value: string | undefined): SlackButtonValue | undefined {
  try {
    const parsed = buttonValueSchema.safeParse(JSON.parse(value ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Escapes Slack's control characters, so text shows as written (mrkdwn formatting still applies). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts escaped text to Slack's limit without leaving half an entity. */
function limit(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/&[a-z]*$/, '')}…`;
}

/** A Slack date that each reader sees in their own time zone. */
export function slackDate(iso: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

function mrkdwn(text: string) {
  return { type: 'mrkdwn' as const, text: limit(text) };
}

export interface SlackMessage {
  /** Notification and screen-reader text. */
  text: string;
  blocks: KnownBlock[];
}

/**
 * The design's approval message: workflow, checkpoint and context, a comment box whose text goes
 * with the decision, then Approve (primary) and Reject (danger), and at `pr` Request changes.
 */
export function approvalMessage({ taskId, workflowId, repository, request }: ApprovalNotice): SlackMessage {
  const value = JSON.stringify({ workflowId, requestId: request.id, checkpoint: request.checkpoint } satisfies SlackButtonValue);
  const revisable = request.checkpoint === 'pr';
  return {
    text: `🤖 ADO requires approval for ${request.checkpoint} (task ${taskId})`,
    blocks: [
      {
        type: 'section',
        text: mrkdwn(`*Workflow:* \`${slackEscape(workflowId)}\`\n*Checkpoint:* ${request.checkpoint}\n\n${slackEscape(request.context)}`),
      },
      {
        type: 'context',
        elements: [mrkdwn(`Repository: ${slackEscape(limit(repository, MAX_REPOSITORY))} · waits until ${slackDate(request.expiresAt)} · request ${request.id}`)],
      },
      {
        type: 'input',
        block_id: SLACK_COMMENT.blockId,
        optional: true,
        label: { type: 'plain_text', text: revisable ? 'Comment (to request changes: what to change)' : 'Comment' },
        element: { type: 'plain_text_input', action_id: SLACK_COMMENT.actionId, multiline: true, max_length: MAX_COMMENT },
      },
      {
        type: 'actions',
        block_id: DECISION_BLOCK_ID,
        elements: [
          { type: 'button', action_id: SLACK_ACTIONS.approve, text: { type: 'plain_text', text: 'Approve ✓' }, style: 'primary', value },
          { type: 'button', action_id: SLACK_ACTIONS.reject, text: { type: 'plain_text', text: 'Reject ✗' }, style: 'danger', value },
          ...(revisable ? [{ type: 'button' as const, action_id: SLACK_ACTIONS.revise, text: { type: 'plain_text' as const, text: 'Request changes ↺' }, value }] : []),
        ],
      },
    ],
  };
}

/**
 * The approval message once settled: its blocks without the buttons and the comment box, and
 * `line` (mrkdwn, already escaped) saying who decided what, or why a click did not count.
 */
export function settledMessage(original: { text?: string; blocks?: readonly unknown[] }, line: string): SlackMessage {
  const kept = (original.blocks ?? []).filter((b): b is KnownBlock => !['actions', 'input'].includes((b as { type?: unknown }).type as string));
  const blocks: KnownBlock[] = kept.length ? kept : [{ type: 'section', text: mrkdwn(slackEscape(original.text || 'ADO approval request')) }];
  return { text: `${original.text ?? 'ADO approval request'}: settled`, blocks: [...blocks, { type: 'context', elements: [mrkdwn(line)] }] };
}

/** One line on how a task ended. */
export function outcomeMessage({ taskId, state }: TaskOutcomeNotice): SlackMessage {
  const task = `Task \`${slackEscape(taskId)}\``;
  const pr = state.pullRequest;
  const line =
    state.phase === 'completed'
      ? `✅ ${task} completed${pr ? `: <${pr.url}|PR #${pr.number}> ${slackEscape(pr.title)}` : ''} (${state.attempts} iteration${state.attempts === 1 ? '' : 's'})`
      : `${state.phase === 'cancelled' ? '⏹️' : '❌'} ${task} ${state.phase}${state.failure ? `: ${slackEscape(state.failure)}` : ''}`;
  return { text: `ADO task ${taskId} ${state.phase}`, blocks: [{ type: 'section', text: mrkdwn(line) }] };
}

/** The Slack SDK's log lines into ADO's logger. */
function slackLogger(logger: Logger): SlackLogger {
  const log = logger.child({ component: 'slack' });
  const levels: readonly string[] = Object.values(LogLevel);
  return {
    debug: (...msg: unknown[]) => log.debug(format(...msg)),
    info: (...msg: unknown[]) => log.info(format(...msg)),
    warn: (...msg: unknown[]) => log.warn(format(...msg)),
    error: (...msg: unknown[]) => log.error(format(...msg)),
    setLevel: (level) => (log.level = level),
    getLevel: () => (levels.includes(log.level) ? (log.level as LogLevel) : LogLevel.ERROR),
    setName: () => {},
  };
}

/**
 * A Slack Web API client for ADO: one attempt per call, rate limits thrown rather than slept
 * through (the activity retries with backoff), and a 10 s timeout (notifications have 15 s).
 */
export function createSlackClient(options: { botToken: string; apiUrl: string; logger: Logger }): WebClient {
  return new WebClient(options.botToken, {
    slackApiUrl: options.apiUrl,
    logger: slackLogger(options.logger),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  });
}

/** Slack API errors that no retry fixes, and what to do about each. */
const SETUP_ERRORS: Record<string, string> = {
  not_authed: "set ADO_SLACK_BOT_TOKEN to the Slack app's bot token",
  invalid_auth: 'Slack does not accept ADO_SLACK_BOT_TOKEN: copy the bot token (xoxb-…) from the app again',
  token_revoked: 'the bot token was revoked: reinstall the Slack app and update ADO_SLACK_BOT_TOKEN',
  account_inactive: 'the bot token was revoked: reinstall the Slack app and update ADO_SLACK_BOT_TOKEN',
  missing_scope: 'give the Slack app the chat:write scope and reinstall it',
  channel_not_found: 'check ADO_SLACK_CHANNEL: use the ID (C…) of a channel the app can see',
  not_in_channel: 'invite the Slack app to the channel named by ADO_SLACK_CHANNEL',
  is_archived: 'the channel is archived: set ADO_SLACK_CHANNEL to another one',
  invalid_blocks: 'Slack refused the message layout; this is a bug in ADO, please report it with this log line',
};

/**
 * A failed Slack call in ADO's terms: setup problems become non-retryable `InvalidConfig` errors
 * that say what to do, a rate limit retries when Slack says, anything else stays retryable.
 */
export function slackFailure(err: unknown, what: string): unknown {
  if (err instanceof WebAPIRateLimitedError) {
    return new AdoError(FailureType.RateLimited, `Slack rate-limits ${what}; retrying in ${err.retryAfter} s.`, { cause: err, nextRetryDelayMs: err.retryAfter * 1000 });
  }
  const hint = err instanceof WebAPIPlatformError ? SETUP_ERRORS[err.data.error] : undefined;
  if (err instanceof WebAPIPlatformError && hint) {
    return nonRetryable(FailureType.InvalidConfig, `Slack refused ${what} (${err.data.error}): ${hint}.`, { cause: err });
  }
  return err;
}

export interface SlackNotifierOptions {
  client: WebClient;
  /** Channel ID (C…) or name the messages go to. */
  channel: string;
  /** Also post a line when a task ends. */
  postOutcomes: boolean;
}

/**
 * Posts approval requests (and, when asked, outcomes) to one channel. A failed post throws, so
 * the activity retries (not when the setup is wrong: that error says what to fix). When the activity is retried because another notifier failed, this
 * worker does not post again (it remembers what it posted); a retry that lands on another
 * worker posts a second copy, whose buttons answer the same request (the later click is told
 * it came too late).
 */
export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private readonly posted = new Set<string>();

  constructor(private readonly options: SlackNotifierOptions) {}

  async approvalRequested(notice: ApprovalNotice): Promise<void> {
    await this.postOnce(`approval:${notice.request.id}`, approvalMessage(notice));
  }

  async taskEnded(notice: TaskOutcomeNotice): Promise<void> {
    if (this.options.postOutcomes) await this.postOnce(`ended:${notice.workflowId}:${notice.state.startedAt}`, outcomeMessage(notice));
  }

  private async postOnce(key: string, message: SlackMessage): Promise<void> {
    if (this.posted.has(key)) return;
    const { client, channel } = this.options;
    await client.chat.postMessage({ channel, ...message }).catch((err: unknown) => {
      throw slackFailure(err, `posting to ${channel}`);
    });
    this.posted.add(key);
    if (this.posted.size > REMEMBERED_POSTS) this.posted.delete(this.posted.values().next().value as string);
  }
}
