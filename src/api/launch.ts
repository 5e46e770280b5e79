/**
 * Starting the API from a Temporal client, a store and the environment: what `ado api` runs
 * alone and what `ado dev` runs beside its embedded stack.
 */
import type { Client } from '@temporalio/client';
import { createChannelPlugins } from './channels';
import { HITLHandler } from '../client/hitl-handler';
import { TaskClient } from '../client/task-client';
import { notificationConfigFromEnv } from '../notifications/config';
import type { AdoStore } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { apiConfigFromEnv } from './config';
import { startApiServer, type RunningApi } from './server';

export interface ApiForStackOptions {
  client: Client;
  /** The deployment's task queue prefix (ADO_TASK_QUEUE_PREFIX), for the tasks the API starts. @default '' */
  queuePrefix?: string;
  store: AdoStore;
  logger: Logger;
  /** ADO_API_TOKENS, ADO_API_HOST, ADO_API_PORT; the Slack and webhook settings turn on their inbound routes. */
  env: NodeJS.ProcessEnv;
  /** Override ADO_API_HOST (a command-line flag). @default ADO_API_HOST, or 127.0.0.1 */
  host?: string;
  /** Override ADO_API_PORT (a command-line flag). @default ADO_API_PORT, or 8080 */
  port?: number;
}

/**
 * Starts the API (and console) with the configuration in `env`, with `POST /slack/interactions`
 * and `POST /webhooks/decision` when Slack or webhooks are configured there; throws
 * `InvalidConfig` naming a bad variable.
 */
export async function startApiForStack(options: ApiForStackOptions): Promise<RunningApi> {
  const config = apiConfigFromEnv(options.env, { host: options.host, port: options.port });
  const notifications = notificationConfigFromEnv(options.env);
  const hitl = new HITLHandler(options.client);
  return startApiServer({
    tasks: new TaskClient(options.client, options.queuePrefix),
    hitl,
    store: options.store,
    logger: options.logger,
    auth: config.auth,
    plugins: createChannelPlugins(notifications, { hitl, usedSignatures: options.store.usedSignatures, logger: options.logger }),
    host: config.host,
    port: config.port,
  });
}
