/** The approvals audit: every human decision, once per approval request. */
import type { Kysely, Selectable } from 'kysely';
import type { ApprovalsTable, StoreDatabase } from './schema';
import type { ApprovalRepository, ApprovalRow } from './types';

export function approvalRepository(db: Kysely<StoreDatabase>): ApprovalRepository {
  return {
    async record(row) {
      const inserted = await db
        .insertInto('approvals')
        .values({
          request_id: row.requestId,
          task_id: row.taskId,
          workflow_id: row.workflowId,
          checkpoint: row.checkpoint,
          approved: row.approved,
          reviewer: row.reviewer ?? null,
          comment: row.comment ?? null,
          channel: row.channel ?? null,
          context: row.context,
          requested_at: row.requestedAt,
          decided_at: row.decidedAt,
        })
        .onConflict((oc) => oc.column('request_id').doNothing())
        .returning('request_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async listForTask(taskId) {
      const rows = await db
        .selectFrom('approvals')
        .selectAll()
        .where('task_id', '=', taskId)
        .orderBy('decided_at')
        .orderBy('recorded_at')
        .execute();
      return rows.map(toApprovalRow);
    },
  };
}

function toApprovalRow(row: Selectable<ApprovalsTable>): ApprovalRow {
  return {
    requestId: row.request_id,
    taskId: row.task_id,
    workflowId: row.workflow_id,
    checkpoint: row.checkpoint,
    approved: row.approved,
    ...(row.reviewer !== null && { reviewer: row.reviewer }),
    ...(row.comment !== null && { comment: row.comment }),
    ...(row.channel !== null && { channel: row.channel }),
    context: row.context,
    requestedAt: row.requested_at,
    decidedAt: row.decided_at,
  };
}
