/** The `tasks` table: one row per task, updated as its phase changes. */
import { type Kysely, type Selectable, sql } from 'kysely';
import { FailureType, nonRetryable } from '../domain/errors';
import type { StoreDatabase, TasksTable } from './schema';
import type { TaskRecord, TaskRepository } from './types';

export function taskRepository(db: Kysely<StoreDatabase>): TaskRepository {
  return {
    async upsert(task) {
      const values = {
        workflow_id: task.workflowId,
        run_id: task.runId ?? null,
        repository: task.repository,
        prompt: task.prompt,
        phase: task.phase,
        hitl_enabled: task.hitlEnabled,
      };
      await db
        .insertInto('tasks')
        .values({ task_id: task.taskId, ...values })
        .onConflict((oc) => oc.column('task_id').doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
        .execute();
    },

    async get(taskId) {
      const row = await db.selectFrom('tasks').selectAll().where('task_id', '=', taskId).executeTakeFirst();
      return row ? toTaskRecord(row) : null;
    },

    async getMany(taskIds) {
      if (taskIds.length === 0) return [];
      const rows = await db.selectFrom('tasks').selectAll().where('task_id', 'in', [...new Set(taskIds)]).execute();
      return rows.map(toTaskRecord);
    },

    async list(filter = {}) {
      const { phase, repository, limit } = filter;
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw nonRetryable(FailureType.InvalidInput, `Task list limit must be a positive integer, got ${limit}.`);
      }
      let query = db.selectFrom('tasks').selectAll().orderBy('created_at', 'desc').orderBy('task_id');
      if (phase !== undefined) query = query.where('phase', '=', phase);
      if (repository !== undefined) query = query.where('repository', '=', repository);
      if (limit !== undefined) query = query.limit(limit);
      return (await query.execute()).map(toTaskRecord);
    },
  };
}

function toTaskRecord(row: Selectable<TasksTable>): TaskRecord {
  return {
    taskId: row.task_id,
    workflowId: row.workflow_id,
    ...(row.run_id !== null && { runId: row.run_id }),
    repository: row.repository,
    prompt: row.prompt,
    phase: row.phase,
    hitlEnabled: row.hitl_enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
