import { describe, expect, it } from 'vitest';
import { memoryUsedSignatures } from '../../test/fakes/used-signatures';
import { createChannelPlugins } from '../api/channels';
import { FailureType } from '../domain/errors';
import { silentLogger } from '../telemetry/logger';
import { createNotifiers, DEFAULT_SLACK_API_URL, describeNotificationConfig, notificationConfigFromEnv } from './config';

const SLACK = { ADO_SLACK_BOT_TOKEN: 'xoxb-1-abc', ADO_SLACK_SIGNING_SECRET: 'signing-secret-value', ADO_SLACK_CHANNEL: 'C0APPROVALS' };
const WEBHOOK = { ADO_WEBHOOK_URLS: ' https://hooks.example.com/ado , http://127.0.0.1:9000/in ', ADO_WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters' };

/** `env` is refused with a non-retryable InvalidConfig error whose message contains each of `parts`. */
function expectRefused(env: NodeJS.ProcessEnv, ...parts: string[]): void {
  const parse = () => notificationConfigFromEnv(env);
  expect(parse).toThrow(expect.objectContaining({ type: FailureType.InvalidConfig, nonRetryable: true }));
  for (const part of parts) expect(parse).toThrow(part);
}

describe('notificationConfigFromEnv', () => {
  it('turns nothing on when nothing is set (empty values count as unset)', () => {
    const config = notificationConfigFromEnv({ ADO_SLACK_CHANNEL: '  ', ADO_WEBHOOK_URLS: '' });
    expect(config).toEqual({});
    expect(createNotifiers(config, { logger: silentLogger() })).toEqual([]);
    expect(createChannelPlugins(config, { hitl: {} as never, usedSignatures: memoryUsedSignatures(), logger: silentLogger() })).toEqual([]);
    expect(describeNotificationConfig(config)).toBe('console only');
  });

  it('turns Slack and webhooks on when fully configured, with their notifiers and endpoints', () => {
    const config = notificationConfigFromEnv({ ...SLACK, ...WEBHOOK, ADO_SLACK_POST_OUTCOMES: 'false' });
    expect(config).toEqual({
      slack: { botToken: 'xoxb-1-abc', signingSecret: 'signing-secret-value', channel: 'C0APPROVALS', apiUrl: DEFAULT_SLACK_API_URL, postOutcomes: false },
      webhook: { urls: ['https://hooks.example.com/ado', 'http://127.0.0.1:9000/in'], secret: 'a-webhook-secret-of-32-characters' },
    });
    expect(createNotifiers(config, { logger: silentLogger() }).map((n) => n.name)).toEqual(['slack', 'webhook']);
    expect(createChannelPlugins(config, { hitl: {} as never, usedSignatures: memoryUsedSignatures(), logger: silentLogger() })).toHaveLength(2);
    expect(describeNotificationConfig(config)).toBe('Slack (C0APPROVALS), webhooks (2 URL(s))');
    expect(notificationConfigFromEnv({ ...SLACK, ADO_SLACK_API_URL: 'http://127.0.0.1:3999/api/' }).slack).toMatchObject({ apiUrl: 'http://127.0.0.1:3999/api/', postOutcomes: true });
  });

  it('reads the Slack approvers as user IDs, and refuses names in their place', () => {
    expect(notificationConfigFromEnv({ ...SLACK, ADO_SLACK_APPROVERS: ' U0ANA, W0BO ' }).slack?.approvers).toEqual(['U0ANA', 'W0BO']);
    expectRefused({ ...SLACK, ADO_SLACK_APPROVERS: 'U0ANA,@bo' }, 'ADO_SLACK_APPROVERS', 'expected Slack user IDs such as U012AB3CD');
  });

  it('refuses a half configuration, naming what is missing and never echoing a secret', () => {
    const halfSlack = { ADO_SLACK_BOT_TOKEN: 'xoxb-1-abc' };
    expectRefused(halfSlack, 'ADO_SLACK_SIGNING_SECRET is not set', 'ADO_SLACK_CHANNEL is not set', 'or unset ADO_SLACK_BOT_TOKEN to turn Slack off');
    expect(() => notificationConfigFromEnv(halfSlack)).not.toThrow('xoxb-1-abc');
    expectRefused({ ADO_SLACK_API_URL: 'http://127.0.0.1:3999/api/' }, 'ADO_SLACK_BOT_TOKEN is not set');
    expectRefused({ ADO_WEBHOOK_SECRET: WEBHOOK.ADO_WEBHOOK_SECRET }, 'ADO_WEBHOOK_URLS is not set');
  });

  it('names each malformed value and what to set instead', () => {
    expectRefused({ ...SLACK, ADO_SLACK_BOT_TOKEN: 'not-a-token' }, 'ADO_SLACK_BOT_TOKEN: expected a Slack bot token');
    expectRefused({ ...SLACK, ADO_SLACK_POST_OUTCOMES: 'yes' }, 'ADO_SLACK_POST_OUTCOMES: expected true or false');
    expectRefused({ ...WEBHOOK, ADO_WEBHOOK_URLS: 'https://ok.example.com, ftp://files.example.com' }, 'ADO_WEBHOOK_URLS.1: expected an http(s) URL');
    expectRefused({ ...WEBHOOK, ADO_WEBHOOK_SECRET: 'short' }, 'ADO_WEBHOOK_SECRET: use at least 16 random characters');
  });
});
