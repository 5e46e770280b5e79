import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger, type LogLine } from '../../test/helpers/logger';
import { freshStoreLocation, type FreshStoreLocation, STORE_DRIVERS } from '../../test/helpers/postgres';
import type { StoreConfig } from './config';
import { MIGRATION_NAMES, migrateToLatest } from './migrations';
import { openStore } from './open-store';
import { pgliteDialect } from './pglite-dialect';

const TABLES = ['agent_blobs', 'approvals', 'checkpoints', 'pull_request_numbers', 'pull_requests', 'run_links', 'tasks', 'used_signatures'];

/** A bare Kysely on the location, without the store around it. */
async function bareDatabase(config: StoreConfig): Promise<Kysely<unknown>> {
  if (config.databaseUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl });
    // pool.end() resolves before its sockets close; a server stopped right after must not crash the test.
    pool.on('error', () => {});
    return new Kysely({ dialect: new PostgresDialect({ pool }) });
  }
  return new Kysely({ dialect: pgliteDialect(await PGlite.create(config.dataDir)) });
}

const locations: FreshStoreLocation[] = [];
async function freshLocation(driver: (typeof STORE_DRIVERS)[number]): Promise<FreshStoreLocation> {
  const location = await freshStoreLocation(driver);
  locations.push(location);
  return location;
}
afterEach(async () => {
  await Promise.all(locations.splice(0).map((l) => l.dispose()));
});

const migrationsLogged = (lines: LogLine[]) =>
  lines.filter((l) => l.msg === 'applied store migration').map((l) => l.migration);

describe.each(STORE_DRIVERS)('store migrations on %s', (driver) => {
  it('create the schema when a store opens an empty database; reopening applies none and keeps the data', async () => {
    const { config } = await freshLocation(driver);
    const { logger, lines } = capturingLogger();
    const store = await openStore({ ...config, logger });
    const taskId = randomUUID();
    await store.tasks.upsert({ taskId, workflowId: taskId, repository: '/r', prompt: 'p', phase: 'planning', hitlEnabled: false });
    await store.close();
    expect(migrationsLogged(lines)).toEqual(MIGRATION_NAMES);

    const reopened = await openStore({ ...config, logger });
    try {
      expect((await reopened.tasks.get(taskId))?.prompt).toBe('p');
    } finally {
      await reopened.close();
    }
    expect(migrationsLogged(lines)).toEqual(MIGRATION_NAMES);

    const db = await bareDatabase(config);
    try {
      expect((await db.introspection.getTables()).map((t) => t.name).sort()).toEqual(TABLES);
      expect(await migrateToLatest(db)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});

describe('store migrations on postgres with several processes', () => {
  it('apply each migration once when two stores open an empty database at the same time, and both work', async () => {
    const { config } = await freshLocation('postgres');
    const { logger, lines } = capturingLogger();
    const stores = await Promise.all([openStore({ ...config, logger }), openStore({ ...config, logger })]);
    try {
      expect(migrationsLogged(lines)).toEqual(MIGRATION_NAMES);
      const taskId = randomUUID();
      await stores[0].tasks.upsert({ taskId, workflowId: taskId, repository: '/r', prompt: 'p', phase: 'planning', hitlEnabled: false });
      expect((await stores[1].tasks.get(taskId))?.taskId).toBe(taskId);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
