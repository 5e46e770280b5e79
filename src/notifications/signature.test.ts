import { describe, expect, it } from 'vitest';
import { ADO_SIGNATURE, SIGNATURE_WINDOW_SECONDS, SLACK_SIGNATURE, verifySignature } from './signature';

// Slack's worked example from "Verifying requests from Slack" (docs.slack.dev).
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const SLACK_TIMESTAMP = '1531420618';
const SLACK_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SLACK_SIGNATURE_HEADER = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT_SLACK_TIMESTAMP = Number(SLACK_TIMESTAMP) * 1000;

describe('verifySignature', () => {
  it("accepts Slack's published example and refuses it once the body or the secret differs", () => {
    const headers = { timestamp: SLACK_TIMESTAMP, signature: SLACK_SIGNATURE_HEADER };
    expect(verifySignature(SLACK_SIGNATURE, SLACK_SECRET, headers, Buffer.from(SLACK_BODY), AT_SLACK_TIMESTAMP)).toEqual({ ok: true, timestamp: 1531420618 });
    expect(verifySignature(SLACK_SIGNATURE, SLACK_SECRET, headers, `${SLACK_BODY}x`, AT_SLACK_TIMESTAMP)).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    expect(verifySignature(SLACK_SIGNATURE, 'another-secret', headers, SLACK_BODY, AT_SLACK_TIMESTAMP)).toMatchObject({ ok: false });
  });

  it('refuses a timestamp outside the five-minute window either way, and missing headers, naming the header', () => {
    const sign = (ts: number) => ({ timestamp: String(ts), signature: ADO_SIGNATURE.sign('s3cret-s3cret-s3cret', String(ts), '{}') });
    const now = 1_700_000_000;
    expect(verifySignature(ADO_SIGNATURE, 's3cret-s3cret-s3cret', sign(now - SIGNATURE_WINDOW_SECONDS), '{}', now * 1000).ok).toBe(true);
    const stale = verifySignature(ADO_SIGNATURE, 's3cret-s3cret-s3cret', sign(now - SIGNATURE_WINDOW_SECONDS - 1), '{}', now * 1000);
    expect(stale).toMatchObject({ ok: false, reason: expect.stringContaining('X-ADO-Timestamp is 301 s away') });
    expect(verifySignature(ADO_SIGNATURE, 's3cret-s3cret-s3cret', sign(now + 400), '{}', now * 1000).ok).toBe(false);
    expect(verifySignature(ADO_SIGNATURE, 'x', { signature: 'v1=00' }, '{}')).toMatchObject({ reason: 'the X-ADO-Timestamp header is missing' });
    expect(verifySignature(ADO_SIGNATURE, 'x', { timestamp: String(now) }, '{}', now * 1000)).toMatchObject({ reason: 'the X-ADO-Signature header is missing' });
    expect(verifySignature(ADO_SIGNATURE, 'x', { timestamp: '2024-01-01', signature: 'v1=00' }, '{}')).toMatchObject({ reason: expect.stringContaining('unix time in seconds') });
  });
});
