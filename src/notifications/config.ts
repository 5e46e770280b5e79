/**
 * Slack and webhook settings from the environment, and the notifiers they describe. Each channel
 * is on only when fully configured; a half configuration is an error naming what is missing.
 *
 * | variable | meaning |
 * |---|---|
 * | `ADO_SLACK_BOT_TOKEN` | secret: the Slack app's bot token (`xoxb-…`), scope `chat:write` |
 * | `ADO_SLACK_SIGNING_SECRET` | secret: the app's signing secret, to verify button clicks |
 * | `ADO_SLACK_CHANNEL` | channel ID (`C…`) or name the approval requests go to (invite the app there) |
 * | `ADO_SLACK_API_URL` | Slack Web API root, default `https://slack.com/api/` |
 * | `ADO_SLACK_POST_OUTCOMES` | `true` (default) or `false`: also post a line when a task ends |
 * | `ADO_SLACK_APPROVERS` | Slack user IDs (`U…`), comma-separated, whose clicks decide; unset: anyone in the channel |
 * | `ADO_WEBHOOK_URLS` | comma-separated http(s) URLs that receive events |
 * | `ADO_WEBHOOK_SECRET` | secret (at least 16 characters) that signs events out and verifies decisions in |
 */
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv } from '../config/env-schema';
import type { Logger } from '../telemetry/logger';
import type { Notifier } from './notifier';
import { createSlackClient, SlackNotifier } from './slack';
import { WebhookNotifier } from './webhook';

/** Slack's Web API root; tests point `ADO_SLACK_API_URL` at a loopback stand-in. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** Slack, on when token, signing secret and channel are all set. */
export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  channel: string;
  apiUrl: string;
  postOutcomes: boolean;
  /** Slack user IDs whose Approve/Reject clicks count; absent: everyone who sees the message. */
  approvers?: readonly string[];
}

/** Webhooks, on when URLs and secret are both set; the secret also verifies inbound decisions. */
export interface WebhookConfig {
  urls: string[];
  secret: string;
}

/** The channels that are on. */
export interface NotificationConfig {
  slack?: SlackConfig;
  webhook?: WebhookConfig;
}

/** Trimmed; empty means unset. */
const text = optionalVar(z.string().trim());

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const envSchema = z.object({
  ADO_SLACK_BOT_TOKEN: optionalVar(z.string().trim().regex(/^xox[a-z]-/, 'expected a Slack bot token such as xoxb-…')),
  ADO_SLACK_SIGNING_SECRET: text,
  ADO_SLACK_CHANNEL: text,
  ADO_SLACK_API_URL: optionalVar(z.string().trim().pipe(httpUrl)),
  ADO_SLACK_POST_OUTCOMES: optionalVar(z.string().trim().pipe(z.enum(['true', 'false'], { error: 'expected true or false' }))),
  ADO_SLACK_APPROVERS: optionalVar(
    z
      .string()
      .transform((v) => v.split(',').map((id) => id.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected Slack user IDs such as U012AB3CD (profile → ⋮ → Copy member ID), comma-separated')).min(1)),
  ),
  ADO_WEBHOOK_URLS: optionalVar(
    z
      .string()
      .transform((v) => v.split(',').map((u) => u.trim()).filter(Boolean))
      .pipe(z.array(httpUrl).min(1, 'expected one or more comma-separated http(s) URLs')),
  ),
  ADO_WEBHOOK_SECRET: optionalVar(z.string().trim().min(16, 'use at least 16 random characters, e.g. the output of `openssl rand -hex 32`')),
});
type NotificationEnv = z.infer<typeof envSchema>;

type EnvName = keyof NotificationEnv;

/** Per channel: the variables it needs (with what to set) and the ones that only tune it. */
const CHANNELS: Record<'Slack' | 'webhooks', { required: Partial<Record<EnvName, string>>; optional: readonly EnvName[] }> = {
  Slack: {
    required: {
      ADO_SLACK_BOT_TOKEN: "set it to the Slack app's bot token (xoxb-…, OAuth & Permissions)",
      ADO_SLACK_SIGNING_SECRET: "set it to the app's signing secret (Basic Information → App Credentials)",
      ADO_SLACK_CHANNEL: 'set it to the channel ID (C…) or name approval requests go to',
    },
    optional: ['ADO_SLACK_API_URL', 'ADO_SLACK_POST_OUTCOMES', 'ADO_SLACK_APPROVERS'],
  },
  webhooks: {
    required: {
      ADO_WEBHOOK_URLS: 'set it to the comma-separated URLs that receive events',
      ADO_WEBHOOK_SECRET: 'set it to the shared secret that signs events (at least 16 characters)',
    },
    optional: [],
  },
};

/** Whether a channel is on; the problems when it is set only in part. */
function channelState(e: NotificationEnv, channel: keyof typeof CHANNELS): { on: boolean; problems: string[] } {
  const { required, optional } = CHANNELS[channel];
  const names = Object.keys(required) as EnvName[];
  const set = [...names, ...optional].filter((name) => e[name] !== undefined);
  const missing = names.filter((name) => e[name] === undefined);
  if (!set.length || !missing.length) return { on: set.length > 0, problems: [] };
  const off = `or unset ${set.join(', ')} to turn ${channel} off`;
  return { on: false, problems: missing.map((name) => `${name} is not set (${channel} is configured in part: ${set.join(', ')}): ${required[name] ?? 'set it'}, ${off}`) };
}

const WHAT = 'notification';

/**
 * Reads the Slack and webhook settings from `env` (see the table above). Throws a non-retryable
 * `AdoError` (`InvalidConfig`) naming every variable that is missing or wrong and what to set.
 */
export function notificationConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationConfig {
  const e = parseEnv(envSchema, env, WHAT);
  const slack = channelState(e, 'Slack');
  const webhooks = channelState(e, 'webhooks');
  const problems = [...slack.problems, ...webhooks.problems];
  if (problems.length) throw invalidConfig(WHAT, problems.join('; '));
  const config: NotificationConfig = {};
  if (slack.on && e.ADO_SLACK_BOT_TOKEN && e.ADO_SLACK_SIGNING_SECRET && e.ADO_SLACK_CHANNEL) {
    config.slack = {
      botToken: e.ADO_SLACK_BOT_TOKEN,
      signingSecret: e.ADO_SLACK_SIGNING_SECRET,
      channel: e.ADO_SLACK_CHANNEL,
      apiUrl: e.ADO_SLACK_API_URL ?? DEFAULT_SLACK_API_URL,
      postOutcomes: e.ADO_SLACK_POST_OUTCOMES !== 'false',
      ...(e.ADO_SLACK_APPROVERS && { approvers: e.ADO_SLACK_APPROVERS }),
    };
  }
  if (webhooks.on && e.ADO_WEBHOOK_URLS && e.ADO_WEBHOOK_SECRET) config.webhook = { urls: e.ADO_WEBHOOK_URLS, secret: e.ADO_WEBHOOK_SECRET };
  return config;
}

/** The notifiers `config` turns on, besides the console one (Slack first, then webhooks). */
export function createNotifiers(config: NotificationConfig, deps: { logger: Logger }): Notifier[] {
  const notifiers: Notifier[] = [];
  if (config.slack) {
    const client = createSlackClient({ ...config.slack, logger: deps.logger });
    notifiers.push(new SlackNotifier({ client, channel: config.slack.channel, postOutcomes: config.slack.postOutcomes }));
  }
  if (config.webhook) notifiers.push(new WebhookNotifier(config.webhook));
  return notifiers;
}

/** For startup logs: which channels are on, without secrets or URLs (they may hold secrets). */
export function describeNotificationConfig(config: NotificationConfig): string {
  const on = [config.slack && `Slack (${config.slack.channel})`, config.webhook && `webhooks (${config.webhook.urls.length} URL(s))`].filter(Boolean);
  return on.length ? on.join(', ') : 'console only';
}
