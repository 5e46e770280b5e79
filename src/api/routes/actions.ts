/** `POST /api/tasks/:taskId/decision` and `…/cancel`: what a human does to a running task. */
import type { FastifyInstance } from 'fastify';
import type { ApprovalDecision } from '../../domain/task';
import { decisionProblem } from '../../workflows/messages';
import type { RouteDeps } from '../deps';
import { invalidFields } from '../problems';
import { cancelBodySchema, decisionBodySchema, jsonSchema, optionalBody, taskParamsSchema, type CancelBody, type DecisionBody, type TaskParams } from '../schemas';

/** Registers the decision and cancel routes on `app` (mounted under /api). */
export async function actionRoutes(app: FastifyInstance, { hitl }: RouteDeps): Promise<void> {
  const params = jsonSchema(taskParamsSchema);

  /**
   * Through the validated `decide` update: 200 once the task accepted the decision, 409 (and
   * nothing changed) when it waits at another checkpoint or request, or at none.
   */
  app.post<{ Params: TaskParams; Body: DecisionBody }>(
    '/tasks/:taskId/decision',
    { schema: { params, body: jsonSchema(decisionBodySchema) } },
    async (request) => {
      const { taskId } = request.params;
      const { channel = 'api', ...body } = request.body;
      const decision: ApprovalDecision = { ...body, reviewer: request.reviewer, channel };
      const problem = decisionProblem(decision);
      if (problem) throw invalidFields([problem]);
      const accepted = await hitl.sendApproval(taskId, decision, { via: 'update' });
      return { taskId, ...accepted, reviewer: request.reviewer, channel, comment: body.comment };
    },
  );

  /**
   * 202: cancellation requested (the phase becomes `cancelled` once the running step stopped).
   * With a reason, the `cancelTask` signal records who cancelled and why; without, Temporal's
   * own cancel ends the run as Cancelled (as `ado cancel` does).
   */
  app.post<{ Params: TaskParams; Body: CancelBody }>(
    '/tasks/:taskId/cancel',
    {
      schema: { params, body: jsonSchema(cancelBodySchema) },
      // No body is no reason.
      preValidation: optionalBody,
    },
    async (request, reply) => {
      const { taskId } = request.params;
      const { reason } = request.body;
      // A task that has ended (terminated and timed-out runs too) throws DecisionRejectedError: 409.
      await hitl.cancelWorkflow(taskId, { reason, requestedBy: request.reviewer, via: reason ? 'signal' : 'cancel' });
      return reply.code(202).send({ taskId, cancelRequested: true, requestedBy: request.reviewer });
    },
  );
}
