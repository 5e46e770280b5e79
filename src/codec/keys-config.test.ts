import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { formatKeys, generateKey } from './keyring';
import { CODEC_KEY_FILE_NAME, codecKeysFromEnv } from './keys-config';

const homes: string[] = [];
function freshHome(): string {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ado-codec-keys-'));
  homes.push(home);
  return home;
}
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});
const k1 = generateKey('k1');
const k0 = generateKey('k0');
const keysVar = formatKeys([k1, k0]).trim().replace('\n', ',');

function configError(env: NodeJS.ProcessEnv, home = freshHome()): AdoError {
  try {
    codecKeysFromEnv(env, home);
  } catch (err) {
    expect(err).toBeInstanceOf(AdoError);
    expect((err as AdoError).type).toBe(FailureType.InvalidConfig);
    return err as AdoError;
  }
  throw new Error('expected an InvalidConfig error');
}

describe('codecKeysFromEnv', () => {
  it('reads ADO_CODEC_KEYS with the first key current and the others for decryption', () => {
    const keys = codecKeysFromEnv({ ADO_CODEC_KEYS: keysVar }, freshHome());
    expect(keys?.source).toBe('ADO_CODEC_KEYS');
    expect(keys?.keyring.current.id).toBe('k1');
    expect(keys?.keyring.ids).toEqual(['k1', 'k0']);
    expect(keys?.keyring.get('k0')?.key.equals(k0.key)).toBe(true);
  });

  it('reads ADO_CODEC_KEY_FILE, one key per line with comments', () => {
    const file = path.join(freshHome(), 'keys.txt');
    writeFileSync(file, `# rotated today, k0 kept for old histories\n${formatKeys([k1, k0])}\n`);
    const keys = codecKeysFromEnv({ ADO_CODEC_KEY_FILE: file }, freshHome());
    expect(keys?.keyring.ids).toEqual(['k1', 'k0']);
    expect(keys?.source).toBe(file);
  });

  it('generates a key under ADO home on first start (mode 0600) and reuses it after', () => {
    const home = freshHome();
    expect(codecKeysFromEnv({}, home)).toBeUndefined();
    const first = codecKeysFromEnv({}, home, { generate: true });
    expect(first?.generated).toBe(true);
    const file = path.join(home, 'keys', CODEC_KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = codecKeysFromEnv({}, home, { generate: true });
    expect(again?.generated).toBe(false);
    expect(again?.keyring.current.key.equals(first!.keyring.current.key)).toBe(true);
    // Commands in other terminals (no generate) find the same key.
    expect(codecKeysFromEnv({}, home)?.keyring.current.id).toBe(first?.keyring.current.id);
    expect(readFileSync(file, 'utf8')).toContain(first!.keyring.current.id);
    // Written beside it and linked into place: no temporary file is left.
    expect(readdirSync(path.dirname(file))).toEqual([CODEC_KEY_FILE_NAME]);
  });

  it('turns encryption off with ADO_CODEC=off, even with keys configured or generation asked for', () => {
    expect(codecKeysFromEnv({ ADO_CODEC: 'off', ADO_CODEC_KEYS: keysVar }, freshHome(), { generate: true })).toBeUndefined();
  });

  it('says which variable is wrong and what to do, without echoing key material', () => {
    const short = Buffer.alloc(16, 9).toString('base64');
    const tooShort = configError({ ADO_CODEC_KEYS: `k1:${short}` });
    expect(tooShort.message).toMatch(/^Invalid payload encryption configuration: ADO_CODEC_KEYS: key "k1" has 16 bytes/);
    expect(tooShort.message).toContain('openssl rand -base64 32');
    expect(tooShort.message).not.toContain(short);

    expect(configError({ ADO_CODEC_KEYS: 'k1:not base64!' }).message).toMatch(/ADO_CODEC_KEYS: the key of "k1" is not base64/);
    expect(configError({ ADO_CODEC: 'maybe' }).message).toMatch(/ADO_CODEC: expected "on" .* or "off"/);
    expect(configError({ ADO_CODEC_KEYS: keysVar, ADO_CODEC_KEY_FILE: '/etc/keys' }).message).toMatch(
      /ADO_CODEC_KEY_FILE: set either ADO_CODEC_KEYS or ADO_CODEC_KEY_FILE, not both/,
    );
    expect(configError({ ADO_CODEC_KEY_FILE: '/nonexistent/ado-keys' }).message).toMatch(/Cannot read ADO_CODEC_KEY_FILE \(\/nonexistent\/ado-keys\) \(ENOENT\)/);
    expect(configError({ ADO_CODEC: 'on' }).message).toMatch(/ADO_CODEC=on but no key is configured: set ADO_CODEC_KEYS/);
  });
});
