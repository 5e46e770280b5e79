import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { AesGcmCodec, ENCRYPTED_ENCODING, isEncrypted, KEY_ID_METADATA, PayloadDecryptionError } from './aes-gcm-codec';
import { generateKey, Keyring, parseKeyring, formatKeys } from './keyring';

const PROMPT = 'Add input validation to the signup form: function validateEmail(e) { return /@/.test(e) }';
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

async function decodeError(codec: AesGcmCodec, payload: Payload): Promise<PayloadDecryptionError> {
  const err = await codec.decode([payload]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PayloadDecryptionError);
  return err as PayloadDecryptionError;
}

describe('AesGcmCodec', () => {
  const oldKey = generateKey('k0');
  const newKey = generateKey('k1');

  it('round-trips payloads, with ciphertext that hides the plaintext and names the key', async () => {
    const codec = new AesGcmCodec(new Keyring([oldKey]));
    const originals = [plain({ prompt: PROMPT }), plain(undefined), plain(new Uint8Array([0, 1, 2, 255]))];
    const encoded = await codec.encode(originals);
    for (const payload of encoded) {
      expect(text(payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata?.[KEY_ID_METADATA])).toBe('k0');
      expect(text(payload.data)).not.toContain('validateEmail');
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ prompt: PROMPT }, undefined, new Uint8Array([0, 1, 2, 255])]);
  });

  it('uses a fresh IV per payload: the same value encrypts differently each time', async () => {
    const codec = new AesGcmCodec(new Keyring([oldKey]));
    const [a, b] = await codec.encode([plain(PROMPT), plain(PROMPT)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('does not encrypt an encrypted payload again, and passes unencrypted payloads through decode', async () => {
    const codec = new AesGcmCodec(new Keyring([oldKey]));
    const [once] = await codec.encode([plain(PROMPT)]);
    const [twice] = await codec.encode([once!]);
    expect(twice).toBe(once);
    const legacy = plain('written before the codec was on');
    expect(await codec.decode([legacy])).toEqual([legacy]);
    expect(isEncrypted(legacy)).toBe(false);
  });

  it('still reads payloads written under an old key after the current key changed', async () => {
    const [written] = await new AesGcmCodec(new Keyring([oldKey])).encode([plain(PROMPT)]);
    const rotated = new AesGcmCodec(parseKeyring(formatKeys([newKey, oldKey])));
    const [read] = await rotated.decode([written!]);
    expect(defaultPayloadConverter.fromPayload(read!)).toBe(PROMPT);
    const [fresh] = await rotated.encode([plain(PROMPT)]);
    expect(text(fresh!.metadata?.[KEY_ID_METADATA])).toBe('k1');
  });

  it('rejects an altered payload as failing authentication', async () => {
    const codec = new AesGcmCodec(new Keyring([oldKey]));
    const [encoded] = await codec.encode([plain(PROMPT)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0x01;
    const err = await decodeError(codec, { ...encoded, data });
    expect(err.type).toBe(FailureType.PayloadDecryptionFailed);
    expect(err.message).toMatch(/key "k0": it does not authenticate/);
  });

  it('rejects a payload encrypted under a different key with the same id', async () => {
    const [encoded] = await new AesGcmCodec(new Keyring([oldKey])).encode([plain(PROMPT)]);
    const impostor = new AesGcmCodec(new Keyring([generateKey('k0')]));
    expect((await decodeError(impostor, encoded!)).type).toBe(FailureType.PayloadDecryptionFailed);
  });

  it('names the unknown key id and the keys it has when a payload asks for a key it does not hold', async () => {
    const [encoded] = await new AesGcmCodec(new Keyring([oldKey])).encode([plain(PROMPT)]);
    const err = await decodeError(new AesGcmCodec(new Keyring([newKey])), encoded!);
    expect(err.type).toBe(FailureType.UnknownCodecKey);
    expect(err.keyId).toBe('k0');
    expect(err.message).toContain('encrypted with key "k0"');
    expect(err.message).toContain('"k1"');
    expect(err.nonRetryable).toBe(true);
  });
});

describe('Keyring', () => {
  it('refuses keys of the wrong length, duplicate ids and an empty list, without echoing key material', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    expect(() => parseKeyring(`k1:${short}`)).toThrow(/key "k1" has 16 bytes; AES-256 needs 32/);
    expect(() => parseKeyring(`k1:${short}`)).not.toThrow(new RegExp(short.slice(0, 10)));
    const good = generateKey('k1');
    expect(() => new Keyring([good, good])).toThrow(/"k1" appears twice/);
    expect(() => parseKeyring('# nothing here\n')).toThrow(/no key given/);
    expect(() => parseKeyring('justakey')).toThrow(/entry 1 is not "<id>:<base64 key>"/);
  });
});
