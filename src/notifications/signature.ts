/**
 * The two HMAC-SHA256 signing schemes ADO speaks: Slack's (requests from Slack) and ADO's own
 * (webhooks out, decisions in). Both sign a unix timestamp with the raw body, so a captured
 * request goes stale once the timestamp leaves the window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signed request's timestamp may be from now, either way: Slack's 5 minutes. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

export interface SignatureScheme {
  /** Who signs, for messages. */
  readonly label: string;
  /** Header with the unix timestamp in seconds. */
  readonly timestampHeader: string;
  /** Header with the signature. */
  readonly signatureHeader: string;
  /** The signature header's value for `body` sent at `timestamp` (the header text). */
  sign(secret: string, timestamp: string, body: Buffer | string): string;
}

function hmacHex(secret: string, prefix: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(prefix).update(body).digest('hex');
}

/** Slack: `v0=` + hex HMAC of `v0:{timestamp}:{body}` with the app's signing secret. */
export const SLACK_SIGNATURE: SignatureScheme = {
  label: 'Slack',
  timestampHeader: 'X-Slack-Request-Timestamp',
  signatureHeader: 'X-Slack-Signature',
  sign: (secret, timestamp, body) => `v0=${hmacHex(secret, `v0:${timestamp}:`, body)}`,
};

/** ADO webhooks: `v1=` + hex HMAC of `{timestamp}.{body}` with `ADO_WEBHOOK_SECRET`. */
export const ADO_SIGNATURE: SignatureScheme = {
  label: 'ADO webhook',
  timestampHeader: 'X-ADO-Timestamp',
  signatureHeader: 'X-ADO-Signature',
  sign: (secret, timestamp, body) => `v1=${hmacHex(secret, `${timestamp}.`, body)}`,
};

type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Checks a request's timestamp (within `SIGNATURE_WINDOW_SECONDS` of `nowMs`) and signature
 * (constant-time comparison) against the raw `body`. Says what is wrong when it fails.
 */
export function verifySignature(
  scheme: SignatureScheme,
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: Buffer | string,
  nowMs: number = Date.now(),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp) return { ok: false, reason: `the ${scheme.timestampHeader} header is missing` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `${scheme.timestampHeader} must be unix time in seconds, got "${timestamp.slice(0, 40)}"` };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > SIGNATURE_WINDOW_SECONDS) {
    return {
      ok: false,
      reason: `${scheme.timestampHeader} is ${Math.round(skew)} s away from this server's clock (at most ${SIGNATURE_WINDOW_SECONDS} s): a stale or replayed request, or a wrong clock`,
    };
  }
  if (!signature) return { ok: false, reason: `the ${scheme.signatureHeader} header is missing` };
  const expected = Buffer.from(scheme.sign(secret, timestamp, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: `${scheme.signatureHeader} does not match the body: check that sender and ADO use the same secret` };
  }
  return { ok: true, timestamp: Number(timestamp) };
}
