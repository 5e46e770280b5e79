/**
 * Local pull requests (the embedded stack's forge): numbered per remote from 1, at most one live
 * (open or merged) PR per head branch, so a retried `createPullRequest` finds the first one.
 */
import path from 'node:path';
import { type Kysely, type Selectable, sql } from 'kysely';
import { FailureType, nonRetryable } from '../domain/errors';
import type { PullRequestsTable, StoreDatabase } from './schema';
import type { PullRequestRecord, PullRequestRepository } from './types';

type NewPullRequest = Parameters<PullRequestRepository['create']>[0];

/**
 * The address of local pull request `number` of `remote`: `ado://<remote name>/pull/<number>`.
 * Records created without a URL get this one.
 */
export function localPullRequestUrl(remote: string, number: number): string {
  return `ado://${path.basename(remote).replace(/\.git$/, '')}/pull/${number}`;
}

/** Thrown inside the creating transaction to undo the number it took when another create won. */
class LostCreateRace extends Error {}

export function pullRequestRepository(db: Kysely<StoreDatabase>): PullRequestRepository {
  const live = () => db.selectFrom('pull_requests').selectAll().where('state', '<>', 'closed');

  async function findByHead(remote: string, headBranch: string): Promise<PullRequestRecord | null> {
    const row = await live().where('remote', '=', remote).where('head_branch', '=', headBranch).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** The row, or undefined when a concurrent create inserted this head first. */
  async function insertNumbered(pr: NewPullRequest): Promise<Selectable<PullRequestsTable> | undefined> {
    try {
      return await db.transaction().execute(async (trx) => {
        // The upsert locks the remote's counter row: creates in one remote take numbers one at a time.
        const { last_number: number } = await trx
          .insertInto('pull_request_numbers')
          .values({ remote: pr.remote, last_number: 1 })
          .onConflict((oc) => oc.column('remote').doUpdateSet((eb) => ({ last_number: eb('pull_request_numbers.last_number', '+', 1) })))
          .returning('last_number')
          .executeTakeFirstOrThrow();
        const row = await trx
          .insertInto('pull_requests')
          .values({
            task_id: pr.taskId,
            repository: pr.repository,
            remote: pr.remote,
            number,
            provider: pr.provider,
            url: pr.url ?? localPullRequestUrl(pr.remote, number),
            title: pr.title,
            description: pr.description,
            base_branch: pr.baseBranch,
            head_branch: pr.headBranch,
            head_sha: pr.headSha,
            state: pr.state,
            stats: pr.stats === undefined ? null : JSON.stringify(pr.stats),
            merged_at: pr.mergedAt ?? null,
            merge_sha: pr.mergeSha ?? null,
          })
          // Matches the partial unique index pull_requests_live_head_key (literal, not a parameter,
          // so that PostgreSQL can infer the index).
          .onConflict((oc) => oc.columns(['remote', 'head_branch']).where(sql.ref('state'), '<>', sql.lit('closed')).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new LostCreateRace();
        return row;
      });
    } catch (err) {
      if (err instanceof LostCreateRace) return undefined;
      throw err;
    }
  }

  return {
    findByHead,

    async create(pr) {
      const existing = await findByHead(pr.remote, pr.headBranch);
      if (existing) return existing;
      const row = await insertNumbered(pr);
      if (row) return toRecord(row);
      const winner = await findByHead(pr.remote, pr.headBranch);
      if (!winner) throw new Error(`Pull request for ${pr.headBranch} in ${pr.remote} conflicted on create but cannot be found.`);
      return winner;
    },

    async markMerged(id, mergeSha) {
      // Marking the same merge again (a retried activity) returns the PR unchanged.
      const row = await db
        .updateTable('pull_requests')
        .set({ state: 'merged', merge_sha: mergeSha, merged_at: sql<Date>`coalesce(merged_at, now())` })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('state', '=', 'open'), eb.and([eb('state', '=', 'merged'), eb('merge_sha', '=', mergeSha)])]))
        .returningAll()
        .executeTakeFirst();
      if (row) return toRecord(row);
      const current = await db.selectFrom('pull_requests').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) {
        throw nonRetryable(FailureType.InvalidInput, `No pull request with id "${id}" in the ADO store.`);
      }
      throw nonRetryable(
        FailureType.RepositoryError,
        `Pull request #${current.number} in ${current.remote} is ${current.state}` +
          (current.merge_sha ? ` (merge ${current.merge_sha})` : '') +
          `; it cannot be marked merged as ${mergeSha}.`,
      );
    },

    async updateHead(id, headSha, stats) {
      const row = await db
        .updateTable('pull_requests')
        .set({ head_sha: headSha, stats: stats === undefined ? null : JSON.stringify(stats) })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .returningAll()
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async get(id) {
      const row = await db.selectFrom('pull_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async listForTask(taskId) {
      const rows = await db.selectFrom('pull_requests').selectAll().where('task_id', '=', taskId).orderBy('created_at').orderBy('number').execute();
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: Selectable<PullRequestsTable>): PullRequestRecord {
  return {
    id: row.id,
    number: row.number,
    provider: row.provider,
    url: row.url,
    title: row.title,
    description: row.description,
    baseBranch: row.base_branch,
    headBranch: row.head_branch,
    headSha: row.head_sha,
    merged: row.state === 'merged',
    state: row.state,
    taskId: row.task_id,
    repository: row.repository,
    remote: row.remote,
    createdAt: row.created_at,
    ...(row.stats !== null && { stats: row.stats }),
    ...(row.merged_at !== null && { mergedAt: row.merged_at }),
    ...(row.merge_sha !== null && { mergeSha: row.merge_sha }),
  };
}
