/**
 * Payload encryption keys: one current key that encrypts and older keys that still decrypt, so
 * keys can rotate without losing the histories written under the old ones.
 *
 * Text form (ADO_CODEC_KEYS, key files): `<id>:<base64 of 32 bytes>` entries separated by commas
 * or new lines, the current key first; in files, blank lines and `#` comments are ignored.
 */
import { randomBytes } from 'node:crypto';

/** AES-256 needs exactly this many key bytes. */
const KEY_BYTES = 32;

/** Key ids travel in payload metadata: short, printable, no separators of the text form. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CodecKey {
  id: string;
  /** 32 bytes of key material. */
  key: Buffer;
}

/** Thrown when a key list cannot be used; says which entry and never echoes key material. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

/** The keys a codec knows: `current` encrypts, every key (current included) decrypts. */
export class Keyring {
  readonly current: CodecKey;
  private readonly byId: ReadonlyMap<string, CodecKey>;

  /** `keys[0]` is the current key; ids must be unique and keys 32 bytes long. */
  constructor(keys: readonly CodecKey[]) {
    const [current] = keys;
    if (!current) throw new KeyringError('no key given: at least one key is needed to encrypt');
    const byId = new Map<string, CodecKey>();
    for (const key of keys) {
      if (!KEY_ID.test(key.id)) throw new KeyringError(`key id "${key.id}" is not valid: use 1-64 letters, digits, ".", "_" or "-"`);
      if (key.key.length !== KEY_BYTES) throw new KeyringError(`key "${key.id}" has ${key.key.length} bytes; AES-256 needs ${KEY_BYTES}`);
      if (byId.has(key.id)) throw new KeyringError(`key id "${key.id}" appears twice`);
      byId.set(key.id, key);
    }
    this.current = current;
    this.byId = byId;
  }

  /** The key with this id, or undefined when the keyring does not hold it. */
  get(id: string): CodecKey | undefined {
    return this.byId.get(id);
  }

  /** Every key id, the current one first. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }
}

/** Parses the text form (see the module comment) into a keyring. */
export function parseKeyring(text: string): Keyring {
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return new Keyring(entries.map((entry, index) => parseEntry(entry, index + 1)));
}

function parseEntry(entry: string, position: number): CodecKey {
  const colon = entry.indexOf(':');
  if (colon <= 0) throw new KeyringError(`entry ${position} is not "<id>:<base64 key>"`);
  const id = entry.slice(0, colon).trim();
  const encoded = entry.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new KeyringError(`the key of "${id}" is not base64`);
  return { id, key: Buffer.from(encoded, 'base64') };
}

/** A new random key; `id` defaults to `k` + the date + random hex, so ids sort by age. */
export function generateKey(id?: string): CodecKey {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return { id: id ?? `k${day}-${randomBytes(3).toString('hex')}`, key: randomBytes(KEY_BYTES) };
}

/** The text form of `keys` (one entry per line), as `parseKeyring` reads it. */
export function formatKeys(keys: readonly CodecKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}\n`).join('');
}
