/** Where the store lives, from the environment: a PostgreSQL server, or PGlite under ADO home. */
import { z } from 'zod';
import { adoHome, adoPaths } from '../config/paths';
import { describeIssues } from '../domain/task-input';
import { AdoError, FailureType } from '../domain/errors';

/** Exactly one of the two is set: `databaseUrl` selects PostgreSQL, `dataDir` PGlite. */
export interface StoreConfig {
  databaseUrl?: string;
  dataDir?: string;
}

/** `VAR=` (empty) means unset, as for ADO_HOME in config/paths.ts. */
const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

const storeEnvSchema = z.object({
  ADO_DATABASE_URL: z.preprocess(
    unsetWhenEmpty,
    z
      .url({
        protocol: /^postgres(ql)?$/,
        error: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/ado (leave it unset for the embedded store)',
      })
      .optional(),
  ),
});

/**
 * Reads `ADO_DATABASE_URL` (a PostgreSQL server shared by every worker) and otherwise places the
 * embedded store under `$ADO_HOME/store`. Throws a non-retryable `InvalidConfig` error naming the
 * variable when the URL is malformed (without echoing it: it may hold a password).
 */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): StoreConfig {
  const parsed = storeEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new AdoError(FailureType.InvalidConfig, `Invalid store configuration: ${describeIssues(parsed.error)}`, {
      nonRetryable: true,
      cause: parsed.error,
    });
  }
  const databaseUrl = parsed.data.ADO_DATABASE_URL;
  return databaseUrl !== undefined ? { databaseUrl } : { dataDir: adoPaths(adoHome(env, cwd)).storeDir };
}
