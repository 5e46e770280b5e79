/** `GET /api/tasks/:taskId/diff`: what the task changed, from its shared git remote. */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps';
import { taskDiff } from '../diff';
import { jsonSchema, taskParamsSchema, type TaskParams } from '../schemas';

/** Registers the diff route on `app` (mounted under /api). */
export async function diffRoutes(app: FastifyInstance, { tasks }: RouteDeps): Promise<void> {
  app.get<{ Params: TaskParams }>('/tasks/:taskId/diff', { schema: { params: jsonSchema(taskParamsSchema) } }, async (request) =>
    taskDiff(await tasks.state(request.params.taskId)),
  );
}
