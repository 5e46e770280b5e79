/**
 * What the inbound channel endpoints share, inside their own fastify plugin scope: the raw body
 * kept for the signature, and verification and replay protection before any handler runs.
 * Refusals are `HttpProblem`s, answered as problem documents by the API server's error handler.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SIGNATURE_WINDOW_SECONDS, verifySignature, type SignatureScheme } from '../../notifications/signature';
import type { UsedSignatureRepository } from '../../store/types';
import type { Logger } from '../../telemetry/logger';
import { HttpProblem } from '../problems';

export interface SignedRequestOptions {
  scheme: SignatureScheme;
  secret: string;
  /** The one media type the endpoint accepts (others get 415). */
  contentType: string;
  /**
   * Where accepted signatures are kept until their timestamp leaves the window (the store, so a
   * replay is refused by every API server and after a restart too).
   */
  usedSignatures: UsedSignatureRepository;
  logger: Logger;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Makes every route of `app` (a plugin's encapsulated scope) receive its body as the raw Buffer,
 * signed by `options.scheme` and not seen before; anything else is refused with 401 before the
 * handler runs.
 */
export function acceptSignedRequests(app: FastifyInstance, options: SignedRequestOptions): void {
  const { scheme, secret, usedSignatures, logger } = options;
  // The signature covers the exact bytes: no parser may touch them first.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(options.contentType, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('preHandler', async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const signature = header(request, scheme.signatureHeader);
    const check = verifySignature(scheme, secret, { timestamp: header(request, scheme.timestampHeader), signature }, body);
    // A signature covers its timestamp, which is refused once out of the window: kept that long, no longer.
    const reason = !check.ok
      ? check.reason
      : (await usedSignatures.firstUse(signature ?? '', new Date((check.timestamp + SIGNATURE_WINDOW_SECONDS + 1) * 1000)))
        ? undefined
        : 'this exact signed request was received before; sign each request anew';
    if (reason === undefined) return;
    // Worth a line: a wrong secret on either side, a clock off by minutes, or someone probing.
    logger.warn({ url: request.url, ip: request.ip, reason }, `${scheme.label} request refused`);
    throw new HttpProblem(401, 'invalid-signature', 'Request signature not accepted', `${scheme.label} request refused: ${reason}.`);
  });
}
