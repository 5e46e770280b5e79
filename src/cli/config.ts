/** What the `ado` command itself reads from the environment; the parts it starts read their own. */
import { z } from 'zod';
import { optionalVar, parseEnv } from '../config/env-schema';

export interface CliConfig {
  /** Print the stack trace of an unexpected error (`ADO_DEBUG`). @default false */
  debug: boolean;
  /** The bearer token sent to a running stack's API (`ADO_API_TOKEN`, one of its `ADO_API_TOKENS`). @default none */
  apiToken?: string;
}

const cliEnvSchema = z.object({
  ADO_DEBUG: optionalVar(z.enum(['1', 'true', '0', 'false'], { error: 'expected 1 or true (0 or false: off)' })),
  ADO_API_TOKEN: optionalVar(z.string()),
});

/** Reads `ADO_DEBUG` and `ADO_API_TOKEN`; a bad value is a non-retryable `InvalidConfig` error naming it. */
export function cliConfigFromEnv(env: NodeJS.ProcessEnv): CliConfig {
  const vars = parseEnv(cliEnvSchema, env, 'CLI');
  return { debug: vars.ADO_DEBUG === '1' || vars.ADO_DEBUG === 'true', apiToken: vars.ADO_API_TOKEN };
}
