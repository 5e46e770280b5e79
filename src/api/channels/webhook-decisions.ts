/**
 * `POST /webhooks/decision`: a signed JSON decision from a webhook receiver (a chat bot, a ticket
 * system, a script), verified with `ADO_WEBHOOK_SECRET` by the scheme ADO signs its own events
 * with (see src/notifications/webhook.ts). Served inline: the sender is a program that can wait,
 * and the answer tells it whether its decision counted.
 *
 * Body: `{taskId, requestId, approved, checkpoint?, reviewer?, comment?, revise?}`. Answers 200 with the
 * accepted decision; otherwise a problem document: 409 when the task refused it (nothing pending,
 * another checkpoint, a stale request id), 404 for an unknown task, 400 for a bad body, 401 for
 * a bad, stale or replayed signature.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { HITLHandler } from '../../client/hitl-handler';
import type { UsedSignatureRepository } from '../../store/types';
import type { Logger } from '../../telemetry/logger';
import { HttpProblem, invalidFields } from '../problems';
import { decisionBodySchema } from '../schemas';
import { decisionProblem } from '../../workflows/messages';
import { acceptSignedRequests } from './signed-requests';
import { ADO_SIGNATURE } from '../../notifications/signature';

export interface WebhookDecisionDeps {
  /** `ADO_WEBHOOK_SECRET`. */
  secret: string;
  hitl: Pick<HITLHandler, 'sendApproval'>;
  /** The store's replay protection. */
  usedSignatures: UsedSignatureRepository;
  logger: Logger;
}

/**
 * The API's decision body (strict, so a misspelt field such as "aproved" is an error rather than
 * ignored), naming its task and reviewer; the channel is always `webhook`. The request id is
 * required: a signed decision answers one approval request (the `approval.requested` event's
 * `request.id`), so that, replayed later, it cannot decide another.
 */
const webhookDecisionSchema = decisionBodySchema.omit({ channel: true, budget: true }).extend({
  taskId: z.string().trim().min(1),
  requestId: z.string({ error: 'required: the id of the approval request this decision answers (request.id of the approval.requested event)' }).min(1),
  reviewer: z.string().trim().min(1).max(200).optional(),
});
type WebhookDecision = z.infer<typeof webhookDecisionSchema>;

function parseDecision(body: Buffer): WebhookDecision {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpProblem(400, 'validation', 'Invalid request', 'The body is not JSON; send {"taskId", "requestId", "approved", "checkpoint"?, "reviewer"?, "comment"?}.', undefined, { cause: err });
  }
  const parsed = webhookDecisionSchema.safeParse(json);
  if (!parsed.success) throw invalidFields(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })));
  const problem = decisionProblem(parsed.data);
  if (problem) throw invalidFields([problem]);
  return parsed.data;
}

/**
 * The fastify plugin serving `POST /webhooks/decision`. Register it without a prefix and outside
 * any token authentication: senders authenticate by signature.
 */
export function webhookDecisionPlugin(deps: WebhookDecisionDeps): FastifyPluginAsync {
  return async (app) => {
    acceptSignedRequests(app, { scheme: ADO_SIGNATURE, secret: deps.secret, contentType: 'application/json', usedSignatures: deps.usedSignatures, logger: deps.logger });

    app.post('/webhooks/decision', async (request, reply) => {
      const { taskId, ...decision } = parseDecision(request.body as Buffer);
      // DecisionRejectedError (409) and TaskNotFoundError (404) become problem documents upstream.
      const accepted = await deps.hitl.sendApproval(taskId, { ...decision, channel: 'webhook' }, { via: 'update' });
      deps.logger.info({ taskId, ...accepted, reviewer: decision.reviewer }, 'Webhook decision accepted');
      return reply.code(200).send({ taskId, ...accepted });
    });
  };
}
