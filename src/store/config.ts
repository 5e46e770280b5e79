/** Where the store lives, from the environment: a PostgreSQL server, or PGlite under ADO home. */
import { z } from 'zod';
import { optionalVar, parseEnv } from '../config/env-schema';
import { adoHome, adoPaths } from '../config/paths';

/** Exactly one of the two is set: `databaseUrl` selects PostgreSQL, `dataDir` PGlite. */
export interface StoreConfig {
  databaseUrl?: string;
  dataDir?: string;
}

const storeEnvSchema = z.object({
  ADO_DATABASE_URL: optionalVar(
    z.url({
      protocol: /^postgres(ql)?$/,
      error: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/ado (leave it unset for the embedded store)',
    }),
  ),
});

/**
 * Reads `ADO_DATABASE_URL` (a PostgreSQL server shared by every worker) and otherwise places the
 * embedded store under `$ADO_HOME/store`. Throws a non-retryable `InvalidConfig` error naming the
 * variable when the URL is malformed (without echoing it: it may hold a password).
 */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): StoreConfig {
  const databaseUrl = parseEnv(storeEnvSchema, env, 'store').ADO_DATABASE_URL;
  return databaseUrl !== undefined ? { databaseUrl } : { dataDir: adoPaths(adoHome(env, cwd)).storeDir };
}
