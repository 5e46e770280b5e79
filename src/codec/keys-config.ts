/**
 * Payload encryption settings from the environment.
 *
 * | variable | meaning |
 * |---|---|
 * | `ADO_CODEC` | `off`: no encryption; `on`: a key must be configured; unset: encrypt when a key is found |
 * | `ADO_CODEC_KEYS` | `<id>:<base64 32-byte key>` entries separated by commas, the current (encrypting) key first; the others only decrypt |
 * | `ADO_CODEC_KEY_FILE` | a file holding the same entries, one per line (`#` comments allowed) |
 *
 * With neither variable, the key file under `<ADO_HOME>/keys/` is used when it exists; the
 * embedded stack (`generate: true`) creates it on first start (mode 0600) and reuses it after.
 * To rotate, put a new key first and keep the old ones after it.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { invalidConfig, parseEnv, unsetWhenEmpty } from '../config/env-schema';
import { adoPaths } from '../config/paths';
import type { AdoError } from '../domain/errors';
import { formatKeys, generateKey, KeyringError, parseKeyring, type Keyring } from './keyring';

/** Name of the key file ADO keeps under `<ADO_HOME>/keys/`. */
export const CODEC_KEY_FILE_NAME = 'codec-keys';

export interface CodecKeys {
  keyring: Keyring;
  /** Where the keys came from, for messages: a variable name or a file path. */
  source: string;
  /** True when this call created the key file. */
  generated: boolean;
}

export interface CodecKeysOptions {
  /** Create `<home>/keys/codec-keys` when nothing is configured (the embedded stack). */
  generate?: boolean;
}

const codecEnvSchema = z
  .object({
    ADO_CODEC: z.preprocess(
      (v) => (typeof v === 'string' ? unsetWhenEmpty(v.trim().toLowerCase()) : v),
      z.enum(['on', 'off'], { error: 'expected "on" (a key must be configured) or "off" (no payload encryption); leave it unset to encrypt when a key is found' }).optional(),
    ),
    ADO_CODEC_KEYS: z.preprocess(unsetWhenEmpty, z.string().optional()),
    ADO_CODEC_KEY_FILE: z.preprocess(unsetWhenEmpty, z.string().trim().optional()),
  })
  .refine((env) => !(env.ADO_CODEC_KEYS && env.ADO_CODEC_KEY_FILE), {
    path: ['ADO_CODEC_KEY_FILE'],
    message: 'set either ADO_CODEC_KEYS or ADO_CODEC_KEY_FILE, not both',
  });

/**
 * The codec keys this process should use, or undefined when payloads are not encrypted. Throws a
 * non-retryable `InvalidConfig` error naming the variable (never echoing key material) when a
 * setting cannot be used.
 */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv, home: string, options: CodecKeysOptions = {}): CodecKeys | undefined {
  const { ADO_CODEC: mode, ADO_CODEC_KEYS: keys, ADO_CODEC_KEY_FILE: keyFile } = parseEnv(codecEnvSchema, env, WHAT);
  if (mode === 'off') return undefined;
  if (keys) return { keyring: keyringFrom(keys, 'ADO_CODEC_KEYS'), source: 'ADO_CODEC_KEYS', generated: false };
  if (keyFile) {
    const label = `ADO_CODEC_KEY_FILE (${keyFile})`;
    return { keyring: keyringFrom(readKeyFile(keyFile, label), label), source: keyFile, generated: false };
  }

  const homeFile = path.join(adoPaths(home).keys, CODEC_KEY_FILE_NAME);
  const existing = readKeyFile(homeFile);
  if (existing !== undefined) return { keyring: keyringFrom(existing, homeFile), source: homeFile, generated: false };
  if (options.generate) return generateKeyFile(homeFile);
  if (mode === 'on') {
    throw invalid(`ADO_CODEC=on but ${noKeyConfigured(home)}`);
  }
  return undefined;
}

/** Whether `env` turns payload encryption off (`ADO_CODEC=off`). */
export function codecTurnedOff(env: NodeJS.ProcessEnv): boolean {
  return parseEnv(codecEnvSchema, env, WHAT).ADO_CODEC === 'off';
}

/** What to do when payload encryption needs a key and none is configured: "no key is configured: set …". */
export function noKeyConfigured(home: string): string {
  const homeFile = path.join(adoPaths(home).keys, CODEC_KEY_FILE_NAME);
  return `no key is configured: set ADO_CODEC_KEYS (e.g. "k1:$(openssl rand -base64 32)") or ADO_CODEC_KEY_FILE, or start \`ado dev\` once to create ${homeFile}.`;
}

/** The file's text; undefined when it does not exist and is optional (no `label` naming who asked for it). */
function readKeyFile(file: string, label: string): string;
function readKeyFile(file: string): string | undefined;
function readKeyFile(file: string, label?: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!label && code === 'ENOENT') return undefined;
    throw invalid(`Cannot read ${label ?? `the key file ${file}`} (${code ?? String(err)}): make it a readable key file.`, err);
  }
}

/**
 * Writes a fresh key to a temporary file and links it into place, so the key file never exists
 * half-written: of two processes starting at once one links first (the other gets EEXIST) and
 * both use its key.
 */
function generateKeyFile(file: string): CodecKeys {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = generateKey();
  const text = `# ADO payload encryption keys: the first encrypts, all decrypt. Keep this file secret.\n${formatKeys([key])}`;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let won: boolean;
  try {
    writeFileSync(temp, text, { flag: 'wx', mode: 0o600 });
    won = tryLink(temp, file);
  } catch (err) {
    throw invalid(`Cannot create the key file ${file}: ${(err as Error).message}`, err);
  } finally {
    rmSync(temp, { force: true });
  }
  if (!won) return { keyring: keyringFrom(readKeyFile(file, `the key file ${file}`), file), source: file, generated: false };
  return { keyring: keyringFrom(text, file), source: file, generated: true };
}

/** Links `from` to `to`; false when `to` exists already. */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function keyringFrom(text: string, where: string): Keyring {
  try {
    return parseKeyring(text);
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    throw invalid(`${where}: ${err.message}. Expected "<id>:<base64 of 32 random bytes>" entries, the current key first (make one with: openssl rand -base64 32).`, err);
  }
}

const WHAT = 'payload encryption';

function invalid(problem: string, cause?: unknown): AdoError {
  return invalidConfig(WHAT, problem, cause);
}
