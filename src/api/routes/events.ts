/** `GET /api/tasks/:taskId/events`: a task's changes as server-sent events, until it ends. */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps';
import { jsonSchema, taskParamsSchema, type TaskParams } from '../schemas';
import type { SseStreams } from '../sse';
import { watchTask } from '../task-events';

interface EventRouteDeps extends RouteDeps {
  streams: SseStreams;
  pollMs: number;
}

/**
 * Events: `state` first (the whole `taskState`), then `phase`, `approval`, `decision` and `state`
 * as they happen, and `end` (how the task ended) before the stream closes. An unknown task is a
 * 404 problem before any stream starts.
 */
export async function eventRoutes(app: FastifyInstance, { tasks, streams, pollMs, logger }: EventRouteDeps): Promise<void> {
  app.get<{ Params: TaskParams }>('/tasks/:taskId/events', { schema: { params: jsonSchema(taskParamsSchema) } }, async (request, reply) => {
    const initial = await tasks.state(request.params.taskId);
    const stream = streams.start(reply);
    stream.send('state', initial);
    try {
      await watchTask({ tasks, initial, signal: stream.signal, pollMs, logger, emit: (e) => stream.send(e.event, e.data) });
    } catch (err) {
      // The response has started: the stream can only end, with the reason logged.
      logger.warn({ err, taskId: initial.taskId }, 'Task event stream ended by an error');
    } finally {
      stream.close();
    }
  });
}
