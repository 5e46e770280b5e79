/**
 * The codec endpoint of Temporal's remote codec protocol, so the Web UI (and the `temporal` CLI
 * with `--codec-endpoint`) shows decrypted payloads: `POST <any path>/encode` and
 * `POST <any path>/decode` with a protobuf-JSON `Payloads` body (see remote-codec-protocol.ts).
 *
 * The Web UI calls it from the browser (`fetch(endpoint + '/decode')` with `Content-Type:
 * application/json` and `X-Namespace`, plus `Authorization` or credentials when configured to), so
 * the UI's origin must be allowed by CORS, preflight included.
 *
 * It decrypts whatever it is given, so it listens on loopback only and asks for what the HTTP API
 * asks for: a bearer token from ADO_API_TOKENS when tokens are configured (the compose gateway
 * adds one to the requests of the users it has logged in); without tokens, requests addressed to
 * loopback that no other site's page sent (the Web UI's origin excepted).
 */
import fastifyCors from '@fastify/cors';
import type { PayloadCodec } from '@temporalio/common';
import fastify, { LogController } from 'fastify';
import { isLoopbackHost } from '../config/loopback';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { describeIssues } from '../domain/task-input';
import type { Logger } from '../telemetry/logger';
import { bearerAuth } from './auth';
import type { ApiAuthConfig } from './config';
import { HttpProblem } from './problems';
import { payloadsFromJson, payloadsJson, payloadsToJson } from './remote-codec-protocol';

export interface CodecServerOptions {
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  /** 0: any free port. */
  port: number;
  codec: PayloadCodec;
  /** Origins allowed to call from a browser: the Web UI's, e.g. `http://127.0.0.1:8233` (see `uiOrigins`). */
  corsOrigins: readonly string[];
  /** The API's tokens (ADO_API_TOKENS): with any, every request needs one of them. */
  auth: ApiAuthConfig;
  /** Failed requests are logged here at warn level. */
  logger?: Logger;
}

export interface CodecServer {
  /** The endpoint to hand to the UI (`--ui-codec-endpoint`), without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/** The headers the Web UI sends (Authorization and its extras only with `passAccessToken`). */
const ALLOWED_HEADERS = ['Content-Type', 'X-Namespace', 'Authorization', 'Authorization-Extras'];

/** Temporal payloads go up to 2 MB each; a request may carry several, in base64. */
const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** Starts the codec endpoint; refuses a host other than loopback. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  // `[::1]` as in a URL; listen() takes the bare address.
  const host = (options.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  if (!isLoopbackHost(host)) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `The codec server cannot listen on ${host}: it decrypts payloads for anyone who reaches it. Use a loopback address (127.0.0.1 or ::1) and, for other machines, put an authenticating proxy in front of it.`,
    );
  }
  const app = fastify({ bodyLimit: BODY_LIMIT_BYTES, ...(options.logger ? { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) } : {}) });
  await app.register(fastifyCors, {
    origin: [...options.corsOrigins],
    methods: ['POST'],
    allowedHeaders: ALLOWED_HEADERS,
    // The UI may be configured with `includeCredentials`; then the browser needs this and an exact origin.
    credentials: true,
    maxAge: 600,
  });

  // After CORS: a browser's preflight is answered before it, and refusals carry the CORS headers.
  app.decorateRequest('reviewer', '');
  app.addHook('onRequest', bearerAuth(options.auth, { allowedOrigins: options.corsOrigins }));

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    // Codec errors (unknown key, altered payload) and bad bodies are the caller's: 400, as the protocol says.
    const status = err instanceof HttpProblem ? err.status : err instanceof AdoError ? 400 : (err.statusCode ?? 500);
    request.log.warn({ url: request.url, namespace: request.headers['x-namespace'], err }, 'codec request failed');
    return reply.code(status).send({ error: err.message });
  });

  // The protocol says to look only at the last path segment, so the endpoint can sit under any prefix.
  app.post('/*', async (request, reply) => {
    const operation = new URL(request.url, 'http://codec').pathname.split('/').pop();
    if (operation !== 'encode' && operation !== 'decode') {
      return reply.code(404).send({ error: `Unknown codec operation "${operation}": POST .../encode or .../decode.` });
    }
    const body = payloadsJson.safeParse(request.body);
    if (!body.success) {
      throw new AdoError(FailureType.InvalidInput, `Expected a JSON body {"payloads": [{"metadata": {...}, "data": "<base64>"}]}: ${describeIssues(body.error)}`);
    }
    const payloads = payloadsFromJson(body.data);
    return payloadsToJson(operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads));
  });

  await app.listen({ host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => app.close() };
}

/**
 * The origins a browser may show the Web UI at `uiUrl` from: its own, and the same port under
 * the other loopback name (`localhost` ⇄ `127.0.0.1`), since users type either.
 */
export function uiOrigins(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  const origins = [url.origin];
  const twin = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname === '127.0.0.1' ? 'localhost' : undefined;
  if (twin) origins.push(`${url.protocol}//${twin}${url.port ? `:${url.port}` : ''}`);
  return origins;
}
