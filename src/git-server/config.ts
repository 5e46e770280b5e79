/** The git server's settings from its environment. */
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv } from '../config/env-schema';

const gitServerEnvSchema = z.object({
  ADO_GIT_SERVER_TOKEN: optionalVar(z.string().min(16, 'must be at least 16 characters (e.g. openssl rand -hex 24)').regex(/^\S+$/, 'must not contain spaces')),
});

/**
 * The token clients must send (`ADO_GIT_SERVER_TOKEN`); there is no default, and none is a
 * non-retryable `InvalidConfig` error saying what to set.
 */
export function gitServerTokenFromEnv(env: NodeJS.ProcessEnv): string {
  const token = parseEnv(gitServerEnvSchema, env, 'git server').ADO_GIT_SERVER_TOKEN;
  if (token === undefined) {
    throw invalidConfig('git server', 'ADO_GIT_SERVER_TOKEN: required (the token workers send; give them the same value as ADO_GIT_REMOTES_CREDENTIALS)');
  }
  return token;
}
