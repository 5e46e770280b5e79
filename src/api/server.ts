/**
 * The HTTP API and the web console, one fastify server: `/api/*` (bearer tokens when configured),
 * `/healthz`, extra route plugins as given, and the console's static files at `/`.
 */
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { bearerAuth } from './auth';
import { requireSafeBinding } from './config';
import type { ApiDeps } from './deps';
import { installProblemHandlers } from './problems';
import { actionRoutes } from './routes/actions';
import { recoveryRoutes } from './routes/recovery';
import { diffRoutes } from './routes/diff';
import { eventRoutes } from './routes/events';
import { taskRoutes } from './routes/tasks';
import { SseStreams } from './sse';

export type { ApiDeps } from './deps';

/** The console's files; two folders up from both src/api and dist/api is the package root. */
export const CONSOLE_DIR = path.resolve(__dirname, '..', '..', 'src', 'console', 'assets');

const DEFAULT_POLL_MS = 500;
const DEFAULT_HEARTBEAT_MS = 15_000;

/** Builds the server (not listening yet); `inject` or `listen` it. */
export async function buildApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  // Typed as fastify's logger interface, so routes and plugins see a plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = fastify({
    loggerInstance,
    // The console polls; a line per request would drown the log. Failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Strict bodies: an unknown field or a wrong type is a 400 naming it, never silently dropped or converted.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, verbose: true } },
  });
  installProblemHandlers(app, deps.logger);
  const streams = new SseStreams(deps.events?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  // Open event streams would keep `close()` waiting for clients that may never leave.
  app.addHook('preClose', async () => streams.closeAll());

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.decorateRequest('reviewer', '');
  await app.register(
    async (api) => {
      api.addHook('onRequest', bearerAuth(deps.auth));
      await taskRoutes(api, deps);
      await actionRoutes(api, deps);
      await recoveryRoutes(api, deps);
      await diffRoutes(api, deps);
      await eventRoutes(api, { ...deps, streams, pollMs: deps.events?.pollMs ?? DEFAULT_POLL_MS });
    },
    { prefix: '/api' },
  );
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/' });
  return app;
}

export interface RunningApi {
  url: string;
  /** Whether /api routes need a bearer token. */
  authRequired: boolean;
  close(): Promise<void>;
}

/**
 * Builds the server and listens on `host:port` (port 0: a free one). Refuses a non-loopback host
 * when no token is configured, and says in the log whether requests need a token.
 */
export async function startApiServer(deps: ApiDeps & { host: string; port: number }): Promise<RunningApi> {
  requireSafeBinding(deps);
  const app = await buildApiServer(deps);
  await app.listen({ host: deps.host, port: deps.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.port;
  const url = `http://${deps.host.includes(':') ? `[${deps.host}]` : deps.host}:${port}`;
  const authRequired = deps.auth.tokens.length > 0;
  if (authRequired) {
    deps.logger.info({ url, tokens: deps.auth.tokens.map((t) => t.name) }, 'ADO API listening; requests need a bearer token');
  } else {
    deps.logger.info({ url }, 'ADO API listening without tokens (ADO_API_TOKENS is unset): reachable from this machine only');
  }
  return { url, authRequired, close: () => app.close() };
}
