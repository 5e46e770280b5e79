import http from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdoError } from '../domain/errors';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import { generateKey, Keyring } from '../codec/keyring';
import { startCodecServer, uiOrigins, type CodecServer } from './codec-server';
import { payloadsToJson } from './remote-codec-protocol';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const codec = new AesGcmCodec(new Keyring([generateKey('k1')]));
let server: CodecServer;

beforeAll(async () => {
  server = await startCodecServer({ port: 0, codec, corsOrigins: uiOrigins(UI_ORIGIN), auth: { tokens: [] } });
});
afterAll(async () => {
  await server?.close();
});

/** POSTs like the Web UI does: JSON, the namespace header, from the UI's origin. */
function post(pathname: string, body: unknown, origin = UI_ORIGIN): Promise<Response> {
  return fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: origin },
    body: JSON.stringify(body),
  });
}

describe('codec server', () => {
  it('encodes and decodes protobuf-JSON payloads at any path ending in /encode or /decode', async () => {
    const plain = payloadsToJson([defaultPayloadConverter.toPayload({ prompt: 'secret prompt' })]);
    const encoded = await post('/encode', plain);
    expect(encoded.status).toBe(200);
    const encrypted = (await encoded.json()) as typeof plain;
    expect(Buffer.from(encrypted.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(JSON.stringify(encrypted)).not.toContain(plain.payloads[0]!.data);

    const decoded = await post('/namespaces/default/decode?preserveStorageRefs=true', encrypted);
    expect(decoded.status).toBe(200);
    expect(await decoded.json()).toEqual(plain);
  });

  it('answers the browser preflight for the UI origin with the headers the UI sends, credentials allowed', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:8233', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');

    const actual = await post('/decode', { payloads: [] });
    expect(actual.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it('does not let other origins read its answers', async () => {
    const response = await post('/decode', { payloads: [] }, 'http://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 400 with the reason for a malformed body or a payload it cannot decrypt', async () => {
    const malformed = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/payloads\.0\.data: expected base64/);

    const foreign = await new AesGcmCodec(new Keyring([generateKey('k9')])).encode([defaultPayloadConverter.toPayload('x')]);
    const unknownKey = await post('/decode', payloadsToJson(foreign));
    expect(unknownKey.status).toBe(400);
    expect(((await unknownKey.json()) as { error: string }).error).toContain('encrypted with key "k9"');

    const unknownOperation = await post('/download', { payloads: [] });
    expect(unknownOperation.status).toBe(404);
  });

  it('refuses to listen beyond loopback', async () => {
    await expect(startCodecServer({ host: '0.0.0.0', port: 0, codec, corsOrigins: [], auth: { tokens: [] } })).rejects.toThrow(AdoError);
  });

  it('without API tokens, decrypts for this machine only: not for another site\'s page, nor a request addressed to another host', async () => {
    const secretPayloads = payloadsToJson(await codec.encode([defaultPayloadConverter.toPayload({ prompt: 'the task input' })]));
    const fromOtherSite = await post('/decode', secretPayloads, 'http://evil.example');
    expect(fromOtherSite.status).toBe(403);
    expect(await fromOtherSite.text()).not.toContain('the task input');
    // A DNS-rebinding page: its own name, resolved to 127.0.0.1.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${server.url}/decode`, { method: 'POST', headers: { host: 'attacker.example:80', 'content-type': 'application/json' } }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end(JSON.stringify(secretPayloads));
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('the task input');
  });

  it('with API tokens, needs one of them, as the API does', async () => {
    const guarded = await startCodecServer({ port: 0, codec, corsOrigins: [], auth: { tokens: [{ name: 'gateway', token: 'gateway-token-0123456789' }] } });
    try {
      const secretPayloads = payloadsToJson(await codec.encode([defaultPayloadConverter.toPayload({ prompt: 'the task input' })]));
      const decode = (headers: Record<string, string>) =>
        fetch(`${guarded.url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(secretPayloads) });
      const anonymous = await decode({});
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="ado"');
      expect(await anonymous.text()).not.toContain('the task input');
      expect((await decode({ Authorization: 'Bearer not-the-token-0123456789' })).status).toBe(403);
      const allowed = await decode({ Authorization: 'Bearer gateway-token-0123456789' });
      expect(allowed.status).toBe(200);
      expect(JSON.stringify(await allowed.json())).toContain(Buffer.from(JSON.stringify({ prompt: 'the task input' })).toString('base64'));
    } finally {
      await guarded.close();
    }
  });
});
