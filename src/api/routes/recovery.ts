/**
 * `POST /api/tasks/:taskId/resume` and `…/migrate`: `WorkflowRecovery` (src/client/workflow-recovery.ts) over HTTP. The
 * CLI uses them when the store is the embedded one and `ado dev` holds it.
 */
import type { FastifyInstance } from 'fastify';
import { WorkflowRecovery } from '../../client/workflow-recovery';
import type { RouteDeps } from '../deps';
import { jsonSchema, migrateBodySchema, optionalBody, resumeBodySchema, taskParamsSchema, type MigrateBody, type ResumeBody, type TaskParams } from '../schemas';

/** Registers the recovery routes on `app` (mounted under /api). */
export async function recoveryRoutes(app: FastifyInstance, { tasks, store }: RouteDeps): Promise<void> {
  const recovery = new WorkflowRecovery(tasks.client, store, tasks.queuePrefix);
  const params = jsonSchema(taskParamsSchema);

  /** What was done: `running`/`completed` (nothing), `reset` or `new-run`, with a message. */
  app.post<{ Params: TaskParams; Body: ResumeBody }>(
    '/tasks/:taskId/resume',
    { schema: { params, body: jsonSchema(resumeBodySchema) }, preValidation: optionalBody },
    async (request) => recovery.resumeFromCheckpoint(request.params.taskId, { strategy: request.body.strategy }),
  );

  /** 201 with the new run's workflow id. */
  app.post<{ Params: TaskParams; Body: MigrateBody }>(
    '/tasks/:taskId/migrate',
    { schema: { params, body: jsonSchema(migrateBodySchema) } },
    async (request, reply) => {
      const { taskId } = request.params;
      const workflowId = await recovery.migrateWorkflow(taskId, request.body.to);
      return reply.code(201).send({ taskId, workflowId, version: request.body.to });
    },
  );
}
