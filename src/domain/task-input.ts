import { z } from 'zod';
import { CHECKPOINTS, type TaskExecutionInput } from './task';

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

/** Task ids become workflow ids and git branch names (`ado/<taskId>`). */
export const taskIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'use letters, digits, ".", "_" or "-" (at most 100)');

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

/** Human-readable list of what is wrong with an input, one issue per line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
