/**
 * Opens the ADO store: a PostgreSQL server when a URL is given, PGlite in `dataDir` otherwise;
 * the schema is brought up to date before the store is handed out.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { Logger } from '../telemetry/logger';
import { approvalRepository } from './approvals';
import { checkpointService } from './checkpoints';
import type { StoreConfig } from './config';
import { acquireDataDirLock, type ReleaseLock } from './data-dir-lock';
import { describeError } from './errors';
import { migrateToLatest } from './migrations';
import { pgliteDialect } from './pglite-dialect';
import { pullRequestRepository } from './pull-requests';
import { agentBlobRepository } from './agent-blobs';
import { runLinkRepository } from './run-links';
import type { StoreDatabase } from './schema';
import { taskRepository } from './tasks';
import { usedSignatureRepository } from './used-signatures';
import type { AdoStore } from './types';

export interface OpenStoreOptions extends StoreConfig {
  logger?: Logger;
}

/**
 * Opens the store and applies pending migrations (safe when several processes start at once on
 * one PostgreSQL database). A PGlite directory is locked for this store until `close()`; opening
 * it again, in this or another process, fails with `StoreLocked`.
 */
export async function openStore(options: OpenStoreOptions): Promise<AdoStore> {
  const { databaseUrl, dataDir, logger } = options;
  if (databaseUrl !== undefined) return openPostgres(databaseUrl, logger);
  if (dataDir !== undefined) return openPglite(dataDir, logger);
  throw nonRetryable(
    FailureType.InvalidConfig,
    'openStore needs a PostgreSQL URL (databaseUrl, from ADO_DATABASE_URL) or a PGlite data directory (dataDir); see storeConfigFromEnv.',
  );
}

async function openPostgres(url: string, logger?: Logger): Promise<AdoStore> {
  const pool = new pg.Pool({ connectionString: url, application_name: 'ado' });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', (err) => logger?.warn({ err }, 'ADO store: idle PostgreSQL connection failed'));
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  await migrate(db, {
    where: `PostgreSQL at ${describeServer(url)}`,
    hint: 'Check that the server is up and that ADO_DATABASE_URL names it and its credentials.',
    logger,
  });
  return buildStore('postgres', db, async () => {});
}

async function openPglite(dataDir: string, logger?: Logger): Promise<AdoStore> {
  const dir = path.resolve(dataDir);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  // Beside the data directory, not in it: PGlite creates and owns the directory itself.
  const release = await acquireDataDirLock(`${dir}.lock`, dir);
  const where = `the embedded store in ${dir}`;
  const hint = 'If the directory is not an ADO store, or is damaged, move it aside to start afresh.';
  let db: Kysely<StoreDatabase>;
  try {
    db = new Kysely<StoreDatabase>({ dialect: pgliteDialect(await PGlite.create(dir)) });
  } catch (err) {
    await release();
    throw openFailed({ where, hint }, err);
  }
  await migrate(db, { where, hint, logger, release });
  return buildStore('pglite', db, release);
}

interface OpenContext {
  /** Which store, for the message. */
  where: string;
  /** What the user can do about it. */
  hint: string;
}

function openFailed({ where, hint }: OpenContext, err: unknown): AdoError {
  return new AdoError(FailureType.StoreOpenFailed, `Cannot open the ADO store (${where}): ${describeError(err)}. ${hint}`, { cause: err });
}

/** Applies migrations; on failure closes the database (and lock) and says which store failed. */
async function migrate(db: Kysely<StoreDatabase>, context: OpenContext & { logger?: Logger; release?: ReleaseLock }): Promise<void> {
  try {
    await migrateToLatest(db as Kysely<unknown>, context.logger);
  } catch (err) {
    await db.destroy().catch(() => {});
    await context.release?.();
    throw openFailed(context, err);
  }
}

function buildStore(driver: AdoStore['driver'], db: Kysely<StoreDatabase>, release: ReleaseLock): AdoStore {
  let closing: Promise<void> | undefined;
  return {
    driver,
    checkpoints: checkpointService(db),
    tasks: taskRepository(db),
    approvals: approvalRepository(db),
    pullRequests: pullRequestRepository(db),
    runLinks: runLinkRepository(db),
    usedSignatures: usedSignatureRepository(db),
    agentBlobs: agentBlobRepository(db),
    close() {
      closing ??= db.destroy().finally(release);
      return closing;
    },
  };
}

/** host:port/database, never the credentials. */
function describeServer(url: string): string {
  try {
    const { hostname, port, pathname } = new URL(url);
    return `${hostname}:${port || '5432'}${pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
