/** What the API server is built from; the caller (`ado api`, `ado dev`, tests) wires it. */
import type { FastifyPluginAsync } from 'fastify';
import type { HITLHandler } from '../client/hitl-handler';
import type { TaskClient } from '../client/task-client';
import type { AdoStore } from '../store/types';
import type { Logger } from '../telemetry/logger';
import type { ApiAuthConfig } from './config';

export interface ApiDeps {
  tasks: TaskClient;
  hitl: HITLHandler;
  store: AdoStore;
  auth: ApiAuthConfig;
  logger: Logger;
  /** More routes (Slack interactions, webhooks…), registered as given, outside the token check. @default none */
  plugins?: FastifyPluginAsync[];
  /** How event streams watch tasks. @default { pollMs: 500, heartbeatMs: 15000 } */
  events?: { pollMs?: number; heartbeatMs?: number };
}

/** The part of the dependencies the /api routes use. */
export type RouteDeps = Pick<ApiDeps, 'tasks' | 'hitl' | 'store' | 'logger'>;
