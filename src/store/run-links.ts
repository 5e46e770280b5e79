/** Links between a run and the run that replaced it (resume, reset, migrate). */
import type { Kysely, Selectable } from 'kysely';
import type { RunLinksTable, StoreDatabase } from './schema';
import type { RunLink, RunLinkRepository } from './types';

export function runLinkRepository(db: Kysely<StoreDatabase>): RunLinkRepository {
  return {
    async add(link) {
      // A retried add finds the same link (unique index) and stores nothing new.
      await db
        .insertInto('run_links')
        .values({
          from_workflow_id: link.fromWorkflowId,
          from_run_id: link.fromRunId ?? null,
          to_workflow_id: link.toWorkflowId,
          to_run_id: link.toRunId ?? null,
          reason: link.reason,
          version: link.version ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    },

    async forTask(workflowId) {
      const rows = await db
        .selectFrom('run_links')
        .selectAll()
        .where((eb) => eb.or([eb('from_workflow_id', '=', workflowId), eb('to_workflow_id', '=', workflowId)]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toRunLink);
    },
  };
}

function toRunLink(row: Selectable<RunLinksTable>): RunLink {
  return {
    fromWorkflowId: row.from_workflow_id,
    ...(row.from_run_id !== null && { fromRunId: row.from_run_id }),
    toWorkflowId: row.to_workflow_id,
    ...(row.to_run_id !== null && { toRunId: row.to_run_id }),
    reason: row.reason,
    ...(row.version !== null && { version: row.version }),
    createdAt: row.created_at,
  };
}
