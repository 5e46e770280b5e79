/**
 * Every API error is an RFC 9457 problem document (`application/problem+json`). Routes throw
 * (`AdoError`s, the client library's among them; `HttpProblem`; fastify's validation errors) and
 * the one error handler here decides the status, so a given failure always looks the same to a caller.
 */
import { STATUS_CODES } from 'node:http';
import { isGrpcServiceError } from '@temporalio/client';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdoError, type FailureTypeName } from '../domain/errors';
import type { Logger } from '../telemetry/logger';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid input field: `prompt`, `budget.maxTotalTokens`, `limit`… */
export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  /** A stable identifier of the kind of problem, e.g. `urn:ado:problem:task-not-found`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Validation problems only: what is wrong with which field. */
  errors?: FieldError[];
}

/** Thrown by routes for a failure that has its own status (401, 403, 404, 409…). */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    /** Short kebab-case name; becomes `urn:ado:problem:<kind>`. */
    readonly kind: string,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** A 400 naming the fields that are wrong, for checks beyond the JSON schemas (e.g. the repository exists). */
export function invalidFields(errors: FieldError[], cause?: unknown): HttpProblem {
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new HttpProblem(400, 'validation', 'Invalid request', detail, errors, { cause });
}

/**
 * The status, problem kind and title of each failure type an `AdoError` carries. Its message is
 * the detail: ADO writes those for the person who has to act. Types not listed are 500s.
 */
const FAILURE_PROBLEMS: Partial<Record<FailureTypeName, [status: number, kind: string, title: string]>> = {
  InvalidInput: [400, 'invalid-task-input', 'Invalid task input'],
  TaskNotFound: [404, 'task-not-found', 'Task not found'],
  DecisionRejected: [409, 'decision-rejected', 'Decision not accepted'],
  TaskAlreadyExists: [409, 'task-already-exists', 'Task already exists'],
  NotRecoverable: [409, 'not-recoverable', 'Task cannot be recovered as asked'],
  RepositoryError: [409, 'repository', 'Repository operation failed'],
  TemporalUnreachable: [503, 'temporal-unreachable', 'Temporal server unreachable'],
  StoreLocked: [503, 'store-unavailable', 'ADO store unavailable'],
  StoreOpenFailed: [503, 'store-unavailable', 'ADO store unavailable'],
  InvalidConfig: [500, 'invalid-config', 'ADO is not configured correctly'],
};

/** gRPC status UNAVAILABLE: the Temporal server went away after the client connected. */
const GRPC_UNAVAILABLE = 14;
/** gRPC status DEADLINE_EXCEEDED: e.g. a query no worker picked up (no worker serves the task queue). */
const GRPC_DEADLINE_EXCEEDED = 4;

/** The problem document for `err`; anything not known here is a 500 that tells the caller nothing internal. */
function problemFor(err: unknown): Problem {
  if (err instanceof HttpProblem) return problem(err.status, err.kind, err.title, err.message, err.errors);
  if (err instanceof AdoError) {
    const [status, kind, title] = FAILURE_PROBLEMS[err.type] ?? [500, kebabCase(err.type), 'Task operation failed'];
    return problem(status, kind, title, err.message);
  }
  const grpc = grpcCode(err);
  if (grpc === GRPC_UNAVAILABLE) {
    return problem(503, 'temporal-unreachable', 'Temporal server unreachable', 'The Temporal server does not answer. Check that it runs (`ado dev`) and that TEMPORAL_ADDRESS names it.');
  }
  if (grpc === GRPC_DEADLINE_EXCEEDED) {
    return problem(504, 'task-unresponsive', 'Task did not answer', 'No worker answered for this task in time. Check that workers serve its task queue (`ado worker`, or `ado dev`), then try again.');
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError.validation, fastifyError.validationContext);
    return problem(400, 'validation', 'Invalid request', describeFields(fastifyError.validationContext, errors), errors);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return problem(status, 'bad-request', STATUS_CODES[status] ?? 'Bad request', fastifyError.message ?? 'The request cannot be processed.');
  }
  return problem(500, 'internal', 'Internal error', 'Something unexpected went wrong; the API log has the details.');
}

/**
 * Installs the error and not-found handlers: every failure becomes a problem document, and
 * unexpected ones are logged with their stack (callers see no internals).
 */
export function installProblemHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err, request, reply) => {
    const body = problemFor(err);
    if (body.status >= 500) logger.error({ err, method: request.method, url: request.url }, 'API request failed');
    return sendProblem(reply, request, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, problem(404, 'not-found', 'Not found', `Nothing at ${request.method} ${request.url.split('?')[0]}; the API lives under /api/tasks.`)),
  );
}

/** The gRPC status code in the cause chain, if any (the SDK wraps gRPC errors in its own). */
function grpcCode(err: unknown): number | undefined {
  for (let current = err; current instanceof Error; current = current.cause) {
    if (isGrpcServiceError(current)) return current.code;
  }
  return undefined;
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, body: Problem): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...body, instance: request.url }));
}

/** `TaskNotFound` → `task-not-found`. */
function kebabCase(name: string): string {
  return name.replace(/[a-z0-9](?=[A-Z])/g, '$&-').toLowerCase();
}

function problem(status: number, kind: string, title: string, detail: string, errors?: FieldError[]): Problem {
  return { type: `urn:ado:problem:${kind}`, title, status, detail, ...(errors ? { errors } : {}) };
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** Present because the validator runs with `verbose`: its description says what a pattern means. */
  parentSchema?: { description?: string };
}

/**
 * One entry per field, in words. An `anyOf` mismatch reports every branch too; the field's
 * description says it better, so only the `anyOf` entry is kept.
 */
function fieldErrors(validation: readonly AjvError[], context: string | undefined): FieldError[] {
  const anyOfFields = new Set(validation.filter((e) => e.keyword === 'anyOf').map(fieldOf));
  const byField = new Map<string, string[]>();
  for (const error of validation) {
    if (error.keyword !== 'anyOf' && anyOfFields.has(fieldOf(error))) continue;
    const field = fieldOf(error) || (context ?? 'request');
    const messages = byField.get(field) ?? [];
    const message = messageOf(error);
    if (!messages.includes(message)) messages.push(message);
    byField.set(field, messages);
  }
  return [...byField].map(([field, messages]) => ({ field, message: messages.join('; ') }));
}

/** Keywords whose failure the field's description explains better than the validator can. */
const DESCRIBED_KEYWORDS = new Set(['pattern', 'anyOf', 'type']);

function messageOf(error: AjvError): string {
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'additionalProperties') return 'is not a known field; check its spelling';
  if (error.keyword === 'type' && error.instancePath === '') return 'must be a JSON object, sent with content-type: application/json';
  if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) return `must be one of: ${error.params.allowedValues.join(', ')}`;
  const description = error.parentSchema?.description;
  if (description && DESCRIBED_KEYWORDS.has(error.keyword)) return `must be ${description}`;
  return error.message ?? 'is invalid';
}

function fieldOf(error: AjvError): string {
  const path = error.instancePath.split('/').filter(Boolean);
  const named = error.params.missingProperty ?? error.params.additionalProperty;
  if (typeof named === 'string') path.push(named);
  return path.join('.');
}

function describeFields(context: string | undefined, errors: FieldError[]): string {
  const where = context === 'querystring' ? 'query string' : context === 'params' ? 'path' : 'request body';
  return `Invalid ${where}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
}
