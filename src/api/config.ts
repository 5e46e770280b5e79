/**
 * The HTTP API's settings, from an explicit environment: where it listens and which bearer tokens
 * it accepts. Without tokens the API is for this machine only, so a non-loopback host is refused.
 */
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv } from '../config/env-schema';
import { isLoopbackHost } from '../config/loopback';

/** A bearer token and the reviewer name recorded with the decisions made with it. */
export interface ApiToken {
  name: string;
  token: string;
}

/** No tokens: every /api route is open, and the server listens on loopback only. */
export interface ApiAuthConfig {
  tokens: readonly ApiToken[];
}

export interface ApiConfig {
  host: string;
  port: number;
  auth: ApiAuthConfig;
}

const DEFAULT_API_HOST = '127.0.0.1';
const DEFAULT_API_PORT = 8080;
/** Shorter tokens can be guessed; `openssl rand -hex 32` makes a good one. */
const MIN_TOKEN_LENGTH = 16;

const apiEnvSchema = z.object({
  ADO_API_TOKENS: optionalVar(z.string()),
  ADO_API_HOST: optionalVar(z.string().trim()),
  ADO_API_PORT: optionalVar(
    z.coerce
      .number({ error: 'must be a port number (0-65535; 0 picks a free port)' })
      .int('must be a whole port number (0-65535)')
      .min(0, 'must be a port number (0-65535)')
      .max(65535, 'must be a port number (0-65535)'),
  ),
});

/**
 * Reads `ADO_API_TOKENS` (`name:token` pairs, comma-separated), `ADO_API_HOST` (default
 * 127.0.0.1) and `ADO_API_PORT` (default 8080); `overrides` (command-line flags) win. Throws a
 * non-retryable `InvalidConfig` error naming the variable (never echoing a token) when a value
 * cannot be used, and when the host is not loopback while no token is configured.
 */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: { host?: string; port?: number } = {}): ApiConfig {
  const vars = parseEnv(apiEnvSchema, env, 'API');
  const tokens = parseTokens(vars.ADO_API_TOKENS);
  const config = {
    host: overrides.host ?? vars.ADO_API_HOST ?? DEFAULT_API_HOST,
    port: overrides.port ?? vars.ADO_API_PORT ?? DEFAULT_API_PORT,
    auth: { tokens },
  };
  requireSafeBinding(config);
  return config;
}

/**
 * Only the API's tokens (`ADO_API_TOKENS`): what the codec endpoint, which shares the API's
 * authentication, needs. Throws like `apiConfigFromEnv`.
 */
export function apiAuthFromEnv(env: NodeJS.ProcessEnv = process.env): ApiAuthConfig {
  return { tokens: parseTokens(parseEnv(apiEnvSchema.pick({ ADO_API_TOKENS: true }), env, 'API').ADO_API_TOKENS) };
}

/** Throws unless the API would be reachable from this machine only, or needs a token. */
export function requireSafeBinding({ host, auth }: { host: string; auth: ApiAuthConfig }): void {
  if (auth.tokens.length === 0 && !isLoopbackHost(host)) {
    throw invalidConfig(
      'API',
      `listening on ${host} (ADO_API_HOST or --host) would open the API beyond this machine without a token. Set ADO_API_TOKENS (name:token pairs, comma-separated) or listen on 127.0.0.1.`,
    );
  }
}

function parseTokens(value: string | undefined): ApiToken[] {
  if (value === undefined) return [];
  const tokens: ApiToken[] = [];
  value.split(',').forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(':');
    if (colon < 1) throw invalidConfig('API', `ADO_API_TOKENS ${where}: expected name:token (the name is the reviewer recorded with decisions).`);
    const name = trimmed.slice(0, colon);
    const token = trimmed.slice(colon + 1);
    if (!/^[\w.@-]+$/.test(name)) throw invalidConfig('API', `ADO_API_TOKENS ${where}: the name may hold letters, digits, ".", "_", "@" or "-".`);
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw invalidConfig('API', `ADO_API_TOKENS ${where} (${name}): the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces; generate one with \`openssl rand -hex 32\`.`);
    }
    if (tokens.some((t) => t.name === name)) throw invalidConfig('API', `ADO_API_TOKENS ${where}: the name "${name}" is given twice.`);
    if (tokens.some((t) => t.token === token)) throw invalidConfig('API', `ADO_API_TOKENS ${where} (${name}): the same token is given to two names; give each its own.`);
    tokens.push({ name, token });
  });
  return tokens;
}
