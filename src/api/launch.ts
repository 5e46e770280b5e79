/**
 * Starting the API from a Temporal client, a store and the environment: what `ado api` runs
 * alone and what `ado dev` runs beside its embedded stack.
 */
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import { HITLHandler } from '../client/hitl-handler';
import { TaskClient } from '../client/task-client';
import type { AdoStore } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { apiConfigFromEnv } from './config';
import { startApiServer, type RunningApi } from './server';

export interface ApiForStackOptions {
  client: Client;
  /** The deployment's task queue prefix (ADO_TASK_QUEUE_PREFIX), for the tasks the API starts. */
  queuePrefix?: string;
  store: AdoStore;
  logger: Logger;
  /** ADO_API_TOKENS, ADO_API_HOST, ADO_API_PORT. */
  env: NodeJS.ProcessEnv;
  /** Override ADO_API_HOST (a command-line flag). */
  host?: string;
  /** Override ADO_API_PORT (a command-line flag). */
  port?: number;
  /** More routes (Slack interactions, webhooks…). */
  plugins?: FastifyPluginAsync[];
}

/** Starts the API (and console) with the configuration in `env`; throws `InvalidConfig` naming a bad variable. */
export function startApiForStack(options: ApiForStackOptions): Promise<RunningApi> {
  const config = apiConfigFromEnv(options.env, { host: options.host, port: options.port });
  return startApiServer({
    tasks: new TaskClient(options.client, options.queuePrefix),
    hitl: new HITLHandler(options.client),
    store: options.store,
    logger: options.logger,
    auth: config.auth,
    plugins: options.plugins,
    host: config.host,
    port: config.port,
  });
}
