/**
 * The shapes of API requests, written once in zod: fastify validates requests with their JSON
 * Schema form (`jsonSchema`), and the routes take their TypeScript types from them.
 */
import { z } from 'zod';
import { CHECKPOINTS, TASK_PHASES } from '../domain/task';
import { MAX_PROMPT_CHARS, PROMPT_PATTERN, storableText, taskExecutionInputSchema, taskIdSchema } from '../domain/task-input';

// Descriptions complete "must be …" in validation messages.
const taskId = taskIdSchema.describe('made of letters, digits, ".", "_" or "-" (at most 100, starting with a letter or digit), with no ".." and not ending in "." or ".lock"');
const budget = taskExecutionInputSchema.shape.budget.unwrap().describe('an object with maxTotalTokens, maxCostUsd and/or maxDurationMs');

export const taskParamsSchema = z.object({ taskId });

export const listQuerySchema = z
  .object({
    phase: z.enum(TASK_PHASES).optional(),
    repository: z.string().min(1).optional(),
    // Query values are strings; the validator converts no types (a body's `"approved": "yes"` must fail).
    limit: z.string().regex(/^(200|1\d\d|[1-9]\d?)$/).optional().describe('a whole number from 1 to 200'),
  })
  .strict();

export const startTaskBodySchema = z
  .object({
    taskId: taskId.optional(),
    prompt: z
      .string()
      .max(MAX_PROMPT_CHARS)
      .regex(PROMPT_PATTERN)
      .describe('a description of what to do: not blank, and text without NUL bytes (\\u0000) or unpaired surrogates'),
    repository: z.string().regex(/\S/).describe("a path to a git repository on the API's machine, or a git URL"),
    branch: storableText.optional(),
    hitl: z.boolean().optional(),
    maxIterations: taskExecutionInputSchema.shape.maxIterations,
    approvalTimeout: z
      .union([z.string().regex(/^\d+(ms|s|m|h|d)$/), z.number().int().positive()])
      .optional()
      .describe('a duration such as 90s, 30m or 2h, or a number of milliseconds'),
    budget: budget.optional(),
  })
  .strict();

export const decisionBodySchema = z
  .object({
    approved: z.boolean(),
    checkpoint: z.enum(CHECKPOINTS).optional(),
    requestId: z.string().min(1).optional(),
    comment: z.string().max(10_000).optional(),
    /** The console says so; other callers are the `api` channel. */
    channel: z.enum(['api', 'console']).optional(),
    budget: budget.optional(),
    /** With `approved: false` and a comment, at `pr`: back to coding (rules: `decisionProblem`). */
    revise: z.boolean().optional(),
  })
  .strict();

export const cancelBodySchema = z.object({ reason: z.string().max(2_000).optional() }).strict();

export const resumeBodySchema = z.object({ strategy: z.enum(['auto', 'reset', 'new-run']).optional() }).strict();

export const migrateBodySchema = z
  .object({ to: z.string().regex(/^[\w.-]{1,50}$/).describe('a version label of letters, digits, ".", "_" or "-"') })
  .strict();

export type TaskParams = z.infer<typeof taskParamsSchema>;
export type ListQuery = z.infer<typeof listQuerySchema>;
export type StartTaskBody = z.infer<typeof startTaskBodySchema>;
export type DecisionBody = z.infer<typeof decisionBodySchema>;
export type CancelBody = z.infer<typeof cancelBodySchema>;
export type ResumeBody = z.infer<typeof resumeBodySchema>;
export type MigrateBody = z.infer<typeof migrateBodySchema>;

/** A `preValidation` hook for routes whose body is optional: no body is validated as `{}`. */
export async function optionalBody(request: { body: unknown }): Promise<void> {
  request.body ??= {};
}

/** The JSON Schema (draft-07, what fastify's validator speaks) of a request shape. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' });
  return rest;
}
