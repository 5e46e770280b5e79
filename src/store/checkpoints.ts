/** `CheckpointService` (src/store/types.ts) on the `checkpoints` table. */
import type { Kysely, Selectable } from 'kysely';
import { FailureType, nonRetryable } from '../domain/errors';
import type { CheckpointsTable, StoreDatabase } from './schema';
import type { Checkpoint, CheckpointService } from './types';

const columns = ['id', 'task_id', 'workflow_id', 'run_id', 'phase', 'timestamp', 'data'] as const;
type CheckpointRow = Pick<Selectable<CheckpointsTable>, (typeof columns)[number]>;

export function checkpointService(db: Kysely<StoreDatabase>): CheckpointService {
  const byTask = (taskId: string) => db.selectFrom('checkpoints').select(columns).where('task_id', '=', taskId);
  return {
    async save(checkpoint) {
      if (Number.isNaN(checkpoint.timestamp.getTime())) {
        throw nonRetryable(FailureType.InvalidInput, `Checkpoint of task ${checkpoint.taskId} has an invalid timestamp.`);
      }
      const inserted = await db
        .insertInto('checkpoints')
        .values({
          ...(checkpoint.id === undefined ? {} : { id: checkpoint.id }),
          task_id: checkpoint.taskId,
          workflow_id: checkpoint.workflowId,
          run_id: checkpoint.runId,
          phase: checkpoint.phase,
          timestamp: checkpoint.timestamp,
          data: JSON.stringify(checkpoint.data),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      // No row back: this id was saved before (a retried activity).
      return inserted?.id ?? checkpoint.id!;
    },

    async restore(checkpointId) {
      const row = await db.selectFrom('checkpoints').select(columns).where('id', '=', checkpointId).executeTakeFirst();
      if (!row) {
        throw nonRetryable(
          FailureType.InvalidInput,
          `No checkpoint with id "${checkpointId}" in the ADO store; list the task's checkpoints to find a valid id.`,
        );
      }
      return toCheckpoint(row);
    },

    async getLatest(taskId) {
      // Same timestamp (clock resolution, clock steps): the later insert wins.
      const row = await byTask(taskId).orderBy('timestamp', 'desc').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row ? toCheckpoint(row) : null;
    },

    async list(taskId) {
      const rows = await byTask(taskId).orderBy('timestamp', 'asc').orderBy('seq', 'asc').execute();
      return rows.map(toCheckpoint);
    },
  };
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    id: row.id,
    taskId: row.task_id,
    workflowId: row.workflow_id,
    runId: row.run_id,
    phase: row.phase,
    timestamp: row.timestamp,
    data: row.data,
  };
}
