/**
 * A Temporal payload codec that encrypts every payload with AES-256-GCM, so the server (and its
 * database) holds only ciphertext: prompts, plans, code and errors included.
 *
 * An encrypted payload is the original `Payload` message, serialised and encrypted:
 * `data` = 12-byte random IV ‖ ciphertext ‖ 16-byte auth tag; metadata `encoding: binary/encrypted`
 * and `encryption-key-id: <id>`, so any key of the keyring can still decrypt it after rotation.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AdoError, FailureType } from '../domain/errors';
import type { Keyring } from './keyring';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when an encrypted payload cannot be decrypted; `keyId` names the key it asked for. */
export class PayloadDecryptionError extends AdoError {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    type: typeof FailureType.UnknownCodecKey | typeof FailureType.PayloadDecryptionFailed | typeof FailureType.UnencryptedPayloadRefused,
    readonly keyId: string,
    message: string,
    cause?: unknown,
  ) {
    // No retry brings a missing key or repairs ciphertext.
    super(type, message, { nonRetryable: true, cause });
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface AesGcmCodecOptions {
  /**
   * Refuse payloads that are not encrypted instead of passing them through: for workers, which
   * must not act on what someone without the keys sent (a `json/plain` signal). The SDK never
   * hands headers or search attributes to a worker's codec, so nothing it needs is refused.
   */
  refusePlaintext?: boolean;
}

/** AES-256-GCM codec over a keyring; see the module comment for the payload format. */
export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keyring: Keyring,
    private readonly options: AesGcmCodecOptions = {},
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? payload : this.encrypt(payload)));
  }

  /**
   * Payloads that are not encrypted pass through unchanged (clients read histories written before
   * the codec was on), unless `refusePlaintext`: then they throw `PayloadDecryptionError`.
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : this.plaintext(payload)));
  }

  private plaintext(payload: Payload): Payload {
    if (this.options.refusePlaintext !== true) return payload;
    const raw = payload.metadata?.encoding;
    const encoding = raw ? fromUtf8.decode(raw) : '(none)';
    throw new PayloadDecryptionError(
      FailureType.UnencryptedPayloadRefused,
      '',
      `Refused a payload that is not encrypted (encoding ${encoding}): payload encryption is on, so workers act only on payloads encrypted with the deployment's keys. ` +
        'Send signals, updates and queries through ADO (ado approve, the API, the console) or through a client that uses the codec (temporal … --codec-endpoint <codec URL> --codec-auth "Bearer <token>").',
    );
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.keyring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key, iv);
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const raw = payload.metadata?.[KEY_ID_METADATA];
    const keyId = raw ? fromUtf8.decode(raw) : '';
    const key = this.keyring.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        FailureType.UnknownCodecKey,
        keyId,
        `Cannot decrypt a payload: it was encrypted with key "${keyId}", which this keyring does not hold (it has ${this.keyring.ids
          .map((id) => `"${id}"`)
          .join(', ')}). Add that key after the current one in ADO_CODEC_KEYS or the key file: older keys still decrypt.`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(FailureType.PayloadDecryptionFailed, keyId, `Cannot decrypt a payload with key "${keyId}": it is truncated (${data.length} bytes).`);
    }
    try {
      const decipher = createDecipheriv(CIPHER, key.key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plaintext);
    } catch (err) {
      throw new PayloadDecryptionError(
        FailureType.PayloadDecryptionFailed,
        keyId,
        `Cannot decrypt a payload with key "${keyId}": it does not authenticate, so it was altered or key "${keyId}" is not the key it was written with.`,
        err,
      );
    }
  }
}

/** True for a payload this codec (or another holder of the keys) has encrypted. */
export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && fromUtf8.decode(encoding) === ENCRYPTED_ENCODING;
}
