/**
 * The transcript file the scripted provider replays and the recording client writes. YAML (JSON is
 * YAML too), one answer per request kind, found by purpose, code iteration and repair round:
 *
 * ```yaml
 * version: 1
 * plan: |                      # a string is the answer…
 *   1. Add a validator …
 * decompose:                   # …or an object with more to say
 *   content: '{"subtasks": [{"id": "1", "title": "Validate", "description": "…"}]}'
 *   expect: signup form        # the last user message must contain this (or match /regex/flags)
 *   usage: { promptTokens: 900, completionTokens: 60, costUsd: 0.0004 }
 * code:                        # one entry per code iteration: iteration 1 first
 *   - content: 'not json'
 *     repair: '{"summary": "…", "edits": []}'   # the answer to the repair round-trip
 *   - '{"summary": "fix the failing test", "edits": [ … ]}'
 * ```
 *
 * A `null` code entry means "no answer recorded for this iteration".
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { describeIssues, storableText } from '../domain/task-input';
import { FailureType, nonRetryable } from '../domain/errors';
import type { ChatRequest } from './types';

export interface ScriptedUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd?: number;
}

/** One scripted answer. */
export interface ScriptedReply {
  content: string;
  /** Substring, or `/regex/flags`, that the request's last user message must contain. */
  expect?: string;
  /** Reported instead of the estimate from text length. */
  usage?: ScriptedUsage;
}

export interface TranscriptEntry extends ScriptedReply {
  /** The answer to the repair round-trip after this answer failed validation. */
  repair?: ScriptedReply;
}

export interface Transcript {
  version: 1;
  plan?: TranscriptEntry;
  decompose?: TranscriptEntry;
  /** Index 0 answers iteration 1. */
  code: (TranscriptEntry | null)[];
}

const usageSchema = z.strictObject({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().optional(),
});
const expectSchema = z.string().min(1).refine((expect) => {
  try {
    expectPattern(expect);
    return true;
  } catch {
    return false;
  }
}, 'not a valid /regular expression/');
const replyFields = { content: storableText, expect: expectSchema.optional(), usage: usageSchema.optional() };
const replySchema = z.union([storableText.transform((content) => ({ content })), z.strictObject(replyFields)], {
  error: 'expected the answer as a string, or as { content, expect?, usage? }',
});
const entrySchema = z.union(
  [storableText.transform((content) => ({ content })), z.strictObject({ ...replyFields, repair: replySchema.optional() })],
  { error: 'expected the answer as a string, or as { content, expect?, repair?, usage? }' },
);
const transcriptSchema = z.strictObject({
  version: z.literal(1, 'write `version: 1` (the only transcript format so far)'),
  plan: entrySchema.optional(),
  decompose: entrySchema.optional(),
  code: z.array(entrySchema.nullable()).default([]),
}) satisfies z.ZodType<Transcript, unknown>;

/** "purpose code, iteration 2, repair round 1": how messages name a request. */
export function describeRequest(request: Pick<ChatRequest, 'purpose' | 'iteration' | 'repairRound'>): string {
  const parts = [`purpose ${request.purpose}`];
  if (request.purpose === 'code') parts.push(`iteration ${request.iteration ?? '(none)'}`);
  if (request.repairRound) parts.push(`repair round ${request.repairRound}`);
  return parts.join(', ');
}

/** `/regex/flags` is a regular expression; anything else a substring. Throws on a bad regex. */
function expectPattern(expect: string): RegExp | string {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(expect);
  return regex ? new RegExp(regex[1] ?? '', regex[2]) : expect;
}

/** Whether `text` satisfies a reply's `expect`. */
export function expectMatches(text: string, expect: string): boolean {
  const pattern = expectPattern(expect);
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

/** Reads and validates a transcript; a clear, non-retryable error when it cannot be used. */
export async function readTranscript(file: string): Promise<Transcript> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `Cannot read the LLM transcript ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): set ADO_LLM_TRANSCRIPT to an existing transcript, or record one with ADO_LLM_RECORD.`,
      { cause: err },
    );
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw nonRetryable(FailureType.InvalidConfig, `The LLM transcript ${file} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = transcriptSchema.safeParse(data);
  if (!parsed.success) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      `The LLM transcript ${file} does not have the transcript format (see src/llm/transcript.ts): ${describeIssues(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** The entry that answers `request`'s purpose and iteration, ignoring the repair round. */
function entryFor(transcript: Transcript, request: ChatRequest): TranscriptEntry | null | undefined {
  if (request.purpose !== 'code') return transcript[request.purpose];
  return request.iteration === undefined ? undefined : transcript.code[request.iteration - 1];
}

/** The reply for `request`, or undefined when the transcript has none. */
export function replyFor(transcript: Transcript, request: ChatRequest): ScriptedReply | undefined {
  const entry = entryFor(transcript, request);
  if (!entry) return undefined;
  return request.repairRound ? entry.repair : entry;
}

/** A copy of `transcript` in which `reply` answers `request` (the last answer wins). */
export function withReply(transcript: Transcript, request: ChatRequest, reply: ScriptedReply): Transcript {
  const previous = entryFor(transcript, request) ?? undefined;
  const entry: TranscriptEntry = request.repairRound ? { ...(previous ?? { content: '' }), repair: reply } : { ...reply };
  if (request.purpose !== 'code') return { ...transcript, [request.purpose]: entry };
  const index = (request.iteration ?? 1) - 1;
  const code = [...transcript.code];
  while (code.length < index) code.push(null);
  code[index] = entry;
  return { ...transcript, code };
}

/** Writes `transcript` as YAML, replacing the file in one step so readers never see half of it. */
export async function writeTranscript(file: string, transcript: Transcript): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const staging = `${file}.tmp-${process.pid}`;
  await fs.writeFile(staging, YAML.stringify(transcript, { lineWidth: 0 }));
  await fs.rename(staging, file);
}
