/**
 * Kysely over PGlite: Kysely's own PostgreSQL dialect, given a pool of exactly one connection.
 * PGlite is one PostgreSQL backend in process; Kysely's transactions need that backend to
 * themselves, so every checkout waits for the previous one to be released.
 */
import type { PGlite } from '@electric-sql/pglite';
import { type PostgresCursor, PostgresDialect, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from 'kysely';

/** A `PostgresDialect` that runs every query on `pglite`; `end()` closes it. */
export function pgliteDialect(pglite: PGlite): PostgresDialect {
  return new PostgresDialect({ pool: new SingleConnectionPool(pglite) });
}

class SingleConnectionPool implements PostgresPool {
  /** Resolves when the current holder releases the connection. */
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly pglite: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    const previous = this.idle;
    let release!: () => void;
    this.idle = new Promise((resolve) => (release = resolve));
    await previous;
    return new PgliteClient(this.pglite, release);
  }

  async end(): Promise<void> {
    await this.idle;
    await this.pglite.close();
  }
}

class PgliteClient implements PostgresPoolClient {
  private released = false;

  constructor(
    private readonly pglite: PGlite,
    private readonly onRelease: () => void,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') throw new Error('The PGlite store does not support cursors (streamed queries).');
    return this.run<R>(sqlOrCursor, parameters);
  }

  release(): void {
    // Idempotent: a second release must not free a connection someone else now holds.
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }

  private async run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    const result = await this.pglite.query<R>(sql, [...parameters]);
    return {
      // Kysely reads the tag only to tell INSERT/UPDATE/DELETE/MERGE and COMMIT/ROLLBACK apart;
      // other tags (CREATE TABLE...) pass through untouched.
      command: (result.command ?? 'SELECT') as PostgresQueryResult<R>['command'],
      rowCount: result.rowCount ?? result.affectedRows ?? 0,
      rows: result.rows,
    };
  }
}
