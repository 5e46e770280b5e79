/**
 * Bearer-token authentication of the /api routes. Each token has a name, and that name is the
 * reviewer recorded with the decisions made through it; without tokens the reviewer is "local",
 * and only requests addressed to loopback, and no cross-site writes, are let through.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../config/loopback';
import type { ApiAuthConfig, ApiToken } from './config';
import { HttpProblem } from './problems';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: the name of the token presented, or `local` when the API needs none. */
    reviewer: string;
  }
}

/** The reviewer of requests to an API without tokens (reachable from this machine only). */
const LOCAL_REVIEWER = 'local';

/**
 * An `onRequest` hook: 401 without a bearer token, 403 with one that matches no configured
 * token; otherwise sets `request.reviewer`. Tokens are compared in constant time, every one of
 * them, so timing tells nothing about which or how much of a token matched. Without tokens,
 * 403 for what a web page elsewhere could send (see `refuseForeignRequest`); pages at
 * `allowedOrigins` (the Temporal Web UI, for the codec endpoint) may write too.
 */
export function bearerAuth(auth: ApiAuthConfig, options: { allowedOrigins?: readonly string[] } = {}): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const known = auth.tokens.map((t) => ({ token: t, digest: digest(t.token) }));
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  return async (request, reply) => {
    if (known.length === 0) {
      refuseForeignRequest(request, allowedOrigins);
      request.reviewer = LOCAL_REVIEWER;
      return;
    }
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined) {
      void reply.header('WWW-Authenticate', 'Bearer realm="ado"');
      throw new HttpProblem(401, 'unauthorized', 'Authentication required', 'Send the header "Authorization: Bearer <token>" with a token from ADO_API_TOKENS.');
    }
    const presentedDigest = digest(presented);
    let match: ApiToken | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(candidate.digest, presentedDigest)) match ??= candidate.token;
    }
    if (!match) throw new HttpProblem(403, 'forbidden', 'Unknown token', 'The bearer token matches none in ADO_API_TOKENS; check it, or ask for one.');
    request.reviewer = match.name;
  };
}

/**
 * Without tokens the API trusts whoever reaches it, and a browser on this machine reaches it on
 * behalf of any web page. So refuses (403) a request whose Host is not a loopback name (a DNS
 * rebinding page: its own name resolved to 127.0.0.1), and a write (anything but GET and HEAD)
 * whose Origin is another host or that the browser marks cross-site.
 */
function refuseForeignRequest(request: FastifyRequest, allowedOrigins: ReadonlySet<string>): void {
  const host = request.headers.host;
  const hostname = host === undefined ? undefined : /^(\[[\da-f:.]+\]|[^:[\]/@\\]+)(?::\d{1,5})?$/i.exec(host)?.[1];
  if (!hostname || !isLoopbackHost(hostname)) {
    throw forbidden(`The API without tokens answers requests to this machine's loopback address only, not to host "${host ?? ''}".`);
  }
  if (request.method === 'GET' || request.method === 'HEAD') return;
  const origin = request.headers.origin;
  if (origin !== undefined && allowedOrigins.has(origin)) return;
  if (origin !== undefined) {
    const originUrl = parseUrl(origin);
    const sameHost = originUrl !== undefined && originUrl.host === parseUrl(`${originUrl.protocol}//${host}`)?.host;
    if (!sameHost) throw forbidden(`The API without tokens refuses changes requested by a page of another site (origin ${origin}).`);
  }
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    throw forbidden('The API without tokens refuses changes requested by a page of another site.');
  }
}

function forbidden(reason: string): HttpProblem {
  return new HttpProblem(
    403,
    'forbidden',
    'Request refused',
    `${reason} Use the console or API at http://127.0.0.1 (or localhost) on this machine, or configure a token in ADO_API_TOKENS.`,
  );
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Equal-length digests, so `timingSafeEqual` compares tokens of any length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
