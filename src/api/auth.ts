/**
 * Bearer-token authentication of the /api routes. Each token has a name, and that name is the
 * reviewer recorded with the decisions made through it; without tokens the reviewer is "local".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiAuthConfig, ApiToken } from './config';
import { HttpProblem } from './problems';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: the name of the token presented, or `local` when the API needs none. */
    reviewer: string;
  }
}

/** The reviewer of requests to an API without tokens (reachable from this machine only). */
export const LOCAL_REVIEWER = 'local';

/**
 * An `onRequest` hook: 401 without a bearer token, 403 with one that matches no configured
 * token; otherwise sets `request.reviewer`. Tokens are compared in constant time, every one of
 * them, so timing tells nothing about which or how much of a token matched.
 */
export function bearerAuth(auth: ApiAuthConfig): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const known = auth.tokens.map((t) => ({ token: t, digest: digest(t.token) }));
  return async (request, reply) => {
    if (known.length === 0) {
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

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Equal-length digests, so `timingSafeEqual` compares tokens of any length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
