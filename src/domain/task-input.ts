import { z } from 'zod';
import { CHECKPOINTS, CODER_MODES, type TaskExecutionInput } from './task';

const budgetSchema = z
  .object({
    maxTotalTokens: z.number().int().positive().optional(),
    maxCostUsd: z.number().positive().optional(),
    maxDurationMs: z.number().int().positive().optional(),
  })
  .strict();

const subtaskSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  description: z.string(),
  files: z.array(z.string()).optional(),
});

/**
 * Task ids become workflow ids and git branch names (`ado/<taskId>`): besides the characters, the
 * rules of `git check-ref-format` that those characters can break (no "..", no trailing "." or
 * ".lock"). One regular expression, so the API's JSON Schema checks exactly the same.
 */
const TASK_ID_PATTERN = /^(?!.*\.\.)(?!.*\.lock$)(?!.*\.$)[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const taskIdSchema = z
  .string()
  .regex(TASK_ID_PATTERN, 'use letters, digits, ".", "_" or "-" (at most 100, starting with a letter or digit), valid in a git branch name: no "..", not ending in "." or ".lock"');

/**
 * Text ADO keeps: PostgreSQL refuses a NUL byte in text, and JSON (payloads, model requests)
 * needs well-formed Unicode. Checked where text comes in (CLI, API, transcripts, model answers),
 * so that nothing fails later in a store write.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const storableText = z.string().regex(/^[^\u0000\uD800-\uDFFF]*$/u, 'must be text without NUL bytes (\\u0000) or unpaired surrogates');

/** The longest prompt ADO takes, from the CLI and the API alike. */
export const MAX_PROMPT_CHARS = 20_000;

/** A prompt's rules in one pattern, for the API's JSON Schema: not blank, and storable. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const PROMPT_PATTERN = /^(?=[\s\S]*\S)[^\u0000\uD800-\uDFFF]*$/u;

/** A new task's prompt: what a person may give (each rule with its own message). */
export const promptSchema = storableText
  .max(MAX_PROMPT_CHARS, `the prompt is longer than ${MAX_PROMPT_CHARS} characters: put the details in a file of the repository and refer to it`)
  .regex(/\S/, 'the task prompt is empty');

export const checkpointNameSchema = z.enum(CHECKPOINTS);

/** The one validation of a task's input: CLI, API and the workflow itself use it. */
export const taskExecutionInputSchema = z.object({
  taskId: taskIdSchema,
  prompt: z.string().trim().min(1, 'the task prompt is empty'),
  repository: z.string().trim().min(1, 'no repository given'),
  branch: z.string(),
  hitlEnabled: z.boolean(),
  maxIterations: z.number().int().min(1).max(100).optional(),
  approvalTimeoutMs: z.number().int().positive().optional(),
  budget: budgetSchema.optional(),
  coder: z.enum(CODER_MODES).optional(),
  maxAgentSteps: z.number().int().min(1).max(1000).optional(),
  resumeFrom: z
    .object({
      fromWorkflowId: z.string().min(1),
      fromRunId: z.string().optional(),
      checkpointId: z.string().optional(),
      plan: z.string().optional(),
      planApproved: z.boolean().optional(),
      subtasks: z.array(subtaskSchema).optional(),
      commitSha: z.string().optional(),
    })
    .optional(),
}) satisfies z.ZodType<TaskExecutionInput>;

/**
 * A new task's input, as the CLI and the API accept it: the workflow's own schema (which must keep
 * accepting what earlier versions started) with the edge's limits on text.
 */
export const newTaskInputSchema = taskExecutionInputSchema.extend({ prompt: promptSchema, branch: storableText });

/** Human-readable list of what is wrong with an input, one issue per line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
