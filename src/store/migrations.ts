/**
 * The store's schema, as versioned migrations in code. Kysely's `Migrator` applies the ones not
 * yet recorded in `kysely_migration`, inside one transaction holding a PostgreSQL advisory lock,
 * so several processes may start at once against the same database.
 * Never edit a released migration: add the next one.
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import type { Logger } from '../telemetry/logger';
import { describeError } from './errors';

/** `id` columns are text so that a lookup by a malformed id finds nothing instead of failing. */
const uuidText = sql`gen_random_uuid()::text`;

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tasks')
        .addColumn('task_id', 'text', (c) => c.primaryKey())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('hitl_enabled', 'boolean', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('tasks_phase_idx').on('tasks').columns(['phase', 'created_at']).execute();
      await db.schema.createIndex('tasks_repository_idx').on('tasks').columns(['repository', 'created_at']).execute();
      await db.schema.createIndex('tasks_created_at_idx').on('tasks').column('created_at').execute();

      await db.schema
        .createTable('checkpoints')
        .addColumn('id', 'text', (c) => c.primaryKey().defaultTo(uuidText))
        .addColumn('seq', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('timestamp', 'timestamptz', (c) => c.notNull())
        .addColumn('data', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('checkpoints_task_idx').on('checkpoints').columns(['task_id', 'timestamp', 'seq']).execute();

      await db.schema
        .createTable('approvals')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('checkpoint', 'text', (c) => c.notNull())
        .addColumn('approved', 'boolean', (c) => c.notNull())
        .addColumn('reviewer', 'text')
        .addColumn('comment', 'text')
        .addColumn('channel', 'text')
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
        .addColumn('decided_at', 'timestamptz', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('approvals_task_idx').on('approvals').columns(['task_id', 'decided_at']).execute();

      await db.schema
        .createTable('pull_request_numbers')
        .addColumn('remote', 'text', (c) => c.primaryKey())
        .addColumn('last_number', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('pull_requests')
        .addColumn('id', 'text', (c) => c.primaryKey().defaultTo(uuidText))
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('remote', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('base_branch', 'text', (c) => c.notNull())
        .addColumn('head_branch', 'text', (c) => c.notNull())
        .addColumn('head_sha', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('open', 'merged', 'closed')`))
        .addColumn('stats', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('merged_at', 'timestamptz')
        .addColumn('merge_sha', 'text')
        .addUniqueConstraint('pull_requests_remote_number_key', ['remote', 'number'])
        .execute();
      // One live PR per branch: creation is idempotent, and a closed PR does not block a new one.
      await db.schema
        .createIndex('pull_requests_live_head_key')
        .on('pull_requests')
        .columns(['remote', 'head_branch'])
        .unique()
        .where(sql.ref('state'), '<>', sql.lit('closed'))
        .execute();
      await db.schema.createIndex('pull_requests_task_idx').on('pull_requests').columns(['task_id', 'created_at']).execute();

      await db.schema
        .createTable('run_links')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('from_workflow_id', 'text', (c) => c.notNull())
        .addColumn('from_run_id', 'text')
        .addColumn('to_workflow_id', 'text', (c) => c.notNull())
        .addColumn('to_run_id', 'text')
        .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason in ('resume', 'reset', 'migrate')`))
        .addColumn('version', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // The same link added twice (an activity retried) is stored once; absent run ids count as equal.
      await sql`create unique index run_links_identity_key on run_links
        (from_workflow_id, coalesce(from_run_id, ''), to_workflow_id, coalesce(to_run_id, ''))`.execute(db);
      await db.schema.createIndex('run_links_from_idx').on('run_links').column('from_workflow_id').execute();
      await db.schema.createIndex('run_links_to_idx').on('run_links').column('to_workflow_id').execute();
    },
  },
  '0002_used_signatures': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('used_signatures')
        .addColumn('signature', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('used_signatures_expires_idx').on('used_signatures').column('expires_at').execute();
    },
  },
  '0003_agent_blobs': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Coding sessions' conversations, model answers and tool observations, passed by reference
      // (claim check) so that workflow history holds only their keys.
      await db.schema
        .createTable('agent_blobs')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('agent_blobs_task_idx').on('agent_blobs').column('task_id').execute();
    },
  },
};

/** The names of every migration this version of ADO knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations).sort();

/**
 * Brings the schema up to date; safe to call from several processes at once and on every start.
 * Returns the names of the migrations this call applied (none when the schema was current).
 */
export async function migrateToLatest(db: Kysely<unknown>, logger?: Logger): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results = [] } = await migrator.migrateToLatest();
  const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    // No failed migration: the database could not be reached or locked; the error says why.
    const message = failed === undefined ? describeError(error) : `store migration ${failed} failed: ${describeError(error)}`;
    throw new Error(message, { cause: error });
  }
  for (const name of applied) logger?.info({ migration: name }, 'applied store migration');
  return applied;
}
