/**
 * Inbound approval channels: the HTTP endpoints through which Slack clicks and signed webhook
 * decisions reach a waiting task. Each is a fastify plugin for the API server.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HITLHandler } from '../../client/hitl-handler';
import type { NotificationConfig } from '../../notifications/config';
import { createSlackClient } from '../../notifications/slack';
import type { UsedSignatureRepository } from '../../store/types';
import type { Logger } from '../../telemetry/logger';
import { slackInteractionsPlugin } from './slack-interactions';
import { webhookDecisionPlugin } from './webhook-decisions';

/**
 * The plugins for the channels `config` turns on: `POST /slack/interactions` with Slack, `POST
 * /webhooks/decision` with webhooks. Register them at the root, outside the API's token check.
 */
export function createChannelPlugins(
  config: NotificationConfig,
  deps: { hitl: Pick<HITLHandler, 'sendApproval' | 'getWorkflowState'>; usedSignatures: UsedSignatureRepository; logger: Logger },
): FastifyPluginAsync[] {
  const { hitl, usedSignatures, logger } = deps;
  const plugins: FastifyPluginAsync[] = [];
  if (config.slack) {
    const slack = createSlackClient({ ...config.slack, logger });
    plugins.push(slackInteractionsPlugin({ signingSecret: config.slack.signingSecret, slack, hitl, usedSignatures, approvers: config.slack.approvers, logger }));
  }
  if (config.webhook) plugins.push(webhookDecisionPlugin({ secret: config.webhook.secret, hitl, usedSignatures, logger }));
  return plugins;
}
