/** `GET /api/tasks`, `GET /api/tasks/:taskId`, `POST /api/tasks`: finding and starting tasks. */
import { msToNumber } from '@temporalio/common/lib/time';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidTaskInputError } from '../../client/errors';
import { checkRepository } from '../../client/repository';
import type { TaskReport, TaskSummary } from '../../client/task-client';
import type { TaskRecord } from '../../store/types';
import type { RouteDeps } from '../deps';
import { HttpProblem, invalidFields } from '../problems';
import { jsonSchema, listQuerySchema, startTaskBodySchema, taskParamsSchema, type ListQuery, type StartTaskBody, type TaskParams } from '../schemas';

const DEFAULT_LIMIT = 50;

/** A task of the list: Temporal's view, with the prompt and HITL flag from the store when it has the task. */
interface TaskListItem extends TaskSummary {
  prompt?: string;
  hitlEnabled?: boolean;
  updatedAt?: Date;
}

/** Registers the list, detail and start routes on `app` (mounted under /api). */
export async function taskRoutes(app: FastifyInstance, { tasks, store }: RouteDeps): Promise<void> {
  const listOptions = {
    schema: { querystring: jsonSchema(listQuerySchema) },
    // `?phase=` (empty, as a form sends it) means no filter.
    preValidation: async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
      request.query = Object.fromEntries(Object.entries(request.query).filter(([, value]) => value !== ''));
    },
  };
  app.get<{ Querystring: ListQuery }>('/tasks', listOptions, async (request) => {
    const { phase, repository } = request.query;
    const limit = request.query.limit ? Number(request.query.limit) : DEFAULT_LIMIT;
    const summaries = await tasks.list({ phase, repository, limit });
    const records = new Map((await store.tasks.getMany(summaries.map((t) => t.taskId))).map((r) => [r.taskId, r]));
    return { tasks: summaries.map((summary) => withRecord(summary, records.get(summary.taskId))) };
  });

  app.get<{ Params: TaskParams }>('/tasks/:taskId', { schema: { params: jsonSchema(taskParamsSchema) } }, async (request) => {
    const { taskId } = request.params;
    // Within the status deadline: a task no worker answers for is a 503 that says why, not a wait.
    const report = await tasks.report(taskId);
    const state = report.state ?? noWorkerAnswered(report);
    const [task, approvals, checkpoints, pullRequests] = await Promise.all([
      store.tasks.get(taskId),
      store.approvals.listForTask(taskId),
      store.checkpoints.list(taskId),
      store.pullRequests.listForTask(taskId),
    ]);
    return {
      state,
      running: report.running,
      task,
      approvals,
      checkpoints: checkpoints.map(({ id, phase, timestamp }) => ({ id, phase, timestamp })),
      pullRequests,
    };
  });

  app.post<{ Body: StartTaskBody }>('/tasks', { schema: { body: jsonSchema(startTaskBodySchema) } }, async (request, reply) => {
    const body = request.body;
    const { repository } = await checkRepository(body.repository, body.branch ?? '').catch((err: unknown) => {
      throw err instanceof InvalidTaskInputError ? invalidFields([{ field: err.field ?? 'repository', message: err.message }], err) : err;
    });
    const started = await tasks.start({
      taskId: body.taskId,
      prompt: body.prompt,
      repository,
      branch: body.branch ?? '',
      hitlEnabled: body.hitl ?? false,
      maxIterations: body.maxIterations,
      approvalTimeoutMs: approvalTimeoutMs(body.approvalTimeout),
      budget: body.budget,
    });
    return reply.code(201).header('location', `/api/tasks/${started.taskId}`).send(started);
  });
}

function noWorkerAnswered(report: TaskReport): never {
  const phase = report.phase ? `, last phase ${report.phase}` : '';
  throw new HttpProblem(503, 'no-worker-answer', 'No worker answered for the task', `Task ${report.taskId} is ${report.status}${phase}. ${report.problems.join(' ')}`);
}

function withRecord(summary: TaskSummary, record: TaskRecord | undefined): TaskListItem {
  if (!record) return summary;
  return { ...summary, prompt: record.prompt, hitlEnabled: record.hitlEnabled, updatedAt: record.updatedAt };
}

/** `30m`, `2h`, `90s` or milliseconds; the schema has checked the form. */
function approvalTimeoutMs(value: StartTaskBody['approvalTimeout']): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  return msToNumber(value as Parameters<typeof msToNumber>[0]);
}
