/**
 * Prompts for the three LLM purposes (plan, decompose, code) and the schemas of the structured
 * answers. Pure functions: the same input gives the same messages, which the scripted provider's
 * `expect` and the tests rely on.
 */
import { z } from 'zod';
import type { Subtask, TaskError } from '../domain/task';
import type { ChatMessage } from './types';

/** A repository file offered to the model; without content it is listed by path only. */
export interface PromptFile {
  path: string;
  content?: string;
}

/** How much of the repository and of the errors goes into one prompt, in characters. */
export interface PromptBudget {
  /** Longer files are cut (the model is told so). */
  maxFileChars: number;
  /** File contents past this total are left out and listed by path. */
  maxTotalChars: number;
  /** Per error message of the previous iteration. */
  maxErrorChars: number;
  /** Paths listed without content. */
  maxListedPaths: number;
}

/** About 40k tokens of files: room for the answer in a 128k-token context. */
export const DEFAULT_PROMPT_BUDGET: PromptBudget = { maxFileChars: 24_000, maxTotalChars: 160_000, maxErrorChars: 4_000, maxListedPaths: 400 };

/** A path inside the repository: relative, no `..`, not under `.git`. */
function isRepositoryPath(p: string): boolean {
  const segments = p.split(/[\\/]/);
  return !/^([\\/]|[A-Za-z]:)/.test(p) && !segments.includes('..') && segments[0] !== '.git';
}
const repositoryPath = z.string().min(1).refine(isRepositoryPath, 'must be a path relative to the repository root, without "..", outside .git');

/** One change to the repository; the workspace applies a list of them in order. */
export const editSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('replace'),
    path: repositoryPath,
    search: z.string().min(1, 'search must not be empty (use a "write" edit for a whole file)'),
    replace: z.string(),
  }),
  z.object({ type: z.literal('write'), path: repositoryPath, content: z.string() }),
  z.object({ type: z.literal('delete'), path: repositoryPath }),
]);
export type Edit = z.infer<typeof editSchema>;

/** The answer to `codePrompt`. */
export const codeAnswerSchema = z.object({
  summary: z.string().trim().min(1, 'say in one or two sentences what the edits do'),
  edits: z.array(editSchema),
});
export type CodeAnswer = z.infer<typeof codeAnswerSchema>;

const subtaskSchema = z.object({
  // Models often number subtasks; an id is a string to the rest of ADO.
  id: z.union([z.string().min(1), z.number()]).transform(String),
  title: z.string().min(1),
  description: z.string(),
  files: z.array(z.string()).optional(),
}) satisfies z.ZodType<Subtask, unknown>;

/** The answer to `decomposePrompt`. */
export const subtasksAnswerSchema = z.object({
  subtasks: z
    .array(subtaskSchema)
    .min(1, 'give at least one subtask')
    .refine((list) => new Set(list.map((s) => s.id)).size === list.length, 'subtask ids must be unique'),
});
export type SubtasksAnswer = z.infer<typeof subtasksAnswerSchema>;

/** A Markdown fence that no backtick run inside `text` can close early. */
function fenced(text: string, info = ''): string {
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut: ${text.length - max} more characters)`;
}

/** File contents within the budget, then the rest by path. */
function filesSection(files: readonly PromptFile[], budget: PromptBudget): string {
  const shown: string[] = [];
  const listed: string[] = [];
  let total = 0;
  for (const file of files) {
    if (file.content === undefined) {
      listed.push(file.path);
      continue;
    }
    const content = clip(file.content, budget.maxFileChars);
    if (total + content.length > budget.maxTotalChars) {
      listed.push(`${file.path} (content left out: prompt budget)`);
      continue;
    }
    total += content.length;
    shown.push(`### ${file.path}\n${fenced(content)}`);
  }
  const parts = shown.length ? [`## Files\n\n${shown.join('\n\n')}`] : [];
  if (listed.length) {
    const more = listed.length > budget.maxListedPaths ? `\n- … and ${listed.length - budget.maxListedPaths} more` : '';
    const list = listed.slice(0, budget.maxListedPaths).map((p) => `- ${p}`).join('\n');
    parts.push(`## ${shown.length ? 'Other files' : 'Files'} in the repository\n\n${list}${more}`);
  }
  return parts.join('\n\n');
}

function subtasksSection(subtasks: readonly Subtask[]): string {
  const lines = subtasks.map((s) => `${s.id}. ${s.title}: ${s.description}${s.files?.length ? ` (files: ${s.files.join(', ')})` : ''}`);
  return `## Subtasks\n\n${lines.join('\n')}`;
}

function errorsSection(errors: readonly TaskError[], iteration: number, budget: PromptBudget): string {
  if (iteration <= 1) return '';
  if (!errors.length) return `## Failures of iteration ${iteration - 1}\n\nNone were reported; finish what the plan still needs.`;
  const blocks = errors.map((e) => {
    const exit = e.exitCode === undefined ? '' : ` (exit code ${e.exitCode})`;
    return `### ${e.tool}${exit}\n${fenced(clip(e.message, budget.maxErrorChars))}`;
  });
  return `## Failures of iteration ${iteration - 1}: fix these first\n\n${blocks.join('\n\n')}`;
}

/** What reviewers said with their decisions; a request for changes is what this iteration is for. */
function guidanceSection(guidance: readonly string[], budget: PromptBudget): string {
  if (!guidance.length) return '';
  return `## What the human reviewers said: follow it\n\n${guidance.map((g) => `- ${clip(g, budget.maxErrorChars)}`).join('\n')}`;
}

const JSON_ONLY = 'Answer with one JSON object and nothing else: no prose, no Markdown fences.';

/** Asks the planner for an implementation plan (free text, Markdown). */
export function planPrompt(
  input: { prompt: string; repository: string; files: readonly PromptFile[] },
  budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
): ChatMessage[] {
  const system = [
    'You are a senior software architect planning a change to an existing repository.',
    'Write a concise implementation plan in Markdown: a numbered list of steps, each naming the files to change or create and what changes;',
    'then the tests to add or update, and the risks. Follow the conventions the repository already uses. No full code listings.',
  ].join(' ');
  const user = [`## Task\n\n${input.prompt}`, `## Repository\n\n${input.repository}`, filesSection(input.files, budget)];
  return [
    { role: 'system', content: system },
    { role: 'user', content: user.filter(Boolean).join('\n\n') },
  ];
}

/** Asks the planner to split an approved plan into subtasks; answer: `subtasksAnswerSchema`. */
export function decomposePrompt(input: { prompt: string; plan: string }): ChatMessage[] {
  const system = [
    'You are a senior software engineer. Split the approved plan into a short ordered list of subtasks, each small enough for one focused change.',
    'Answer format: {"subtasks": [{"id": "1", "title": "short title", "description": "what to do and how to know it is done", "files": ["relative/path.ts"]}]}',
    '("files" is optional).',
    JSON_ONLY,
  ].join(' ');
  return [
    { role: 'system', content: system },
    { role: 'user', content: `## Task\n\n${input.prompt}\n\n## Approved plan\n\n${input.plan}` },
  ];
}

/** Asks the coder for the edits of one iteration; answer: `codeAnswerSchema`. */
export function codePrompt(
  input: {
    prompt: string;
    plan: string;
    subtasks: readonly Subtask[];
    files: readonly PromptFile[];
    previousErrors: readonly TaskError[];
    /** What reviewers said with their decisions (see `GenerateCodeInput.guidance`). */
    guidance?: readonly string[];
    iteration: number;
  },
  budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
): ChatMessage[] {
  const system = [
    'You are a senior software engineer changing an existing repository. Make the smallest set of edits that carries out the plan and makes the quality gates (typecheck, lint, tests, build) pass.',
    'Answer format: {"summary": "one or two sentences", "edits": [ … ]} where each edit is one of:',
    '{"type": "replace", "path": "src/a.ts", "search": "exact existing text", "replace": "new text"} to change an existing file: "search" must be copied exactly (whitespace included) from the file as shown and occur in it exactly once, so include enough surrounding lines;',
    '{"type": "write", "path": "src/b.ts", "content": "whole file"} to create a file or replace all of it;',
    '{"type": "delete", "path": "src/c.ts"} to remove a file.',
    'Paths are relative to the repository root. Edits apply in order. Do not touch files the task does not need.',
    JSON_ONLY,
  ].join(' ');
  const user = [
    `## Task\n\n${input.prompt}`,
    `## Plan\n\n${input.plan}`,
    input.subtasks.length ? subtasksSection(input.subtasks) : '',
    `## Iteration\n\n${input.iteration}`,
    guidanceSection(input.guidance ?? [], budget),
    errorsSection(input.previousErrors, input.iteration, budget),
    filesSection(input.files, budget),
  ];
  return [
    { role: 'system', content: system },
    { role: 'user', content: user.filter(Boolean).join('\n\n') },
  ];
}
