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
 *
 * Coding sessions (the agent coder) have an `agent` section: per code iteration, the model's turns
 * in order; each turn is the text and tool calls of one answer, and `condense` the summary the
 * model gave when the conversation was condensed before that turn:
 *
 * ```yaml
 * agent:
 *   - - tool_calls: [{ name: search, arguments: { pattern: validateEmail } }]
 *     - content: Found it.
 *       tool_calls: [{ name: view, arguments: { path: src/signup.ts } }]
 *       condense: 'COMPLETED: … PENDING: …'
 *     - tool_calls: [{ name: finish, arguments: { summary: Validate the e-mail } }]
 * ```
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { RawToolCall } from '../domain/agent-tools';
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
  /** Tool calls of the answer (coding sessions). */
  toolCalls?: RawToolCall[];
}

/** One model turn of a coding session, as the transcript holds it. */
export interface AgentTurnEntry {
  content?: string;
  tool_calls?: { name: string; arguments: unknown }[];
  expect?: string;
  usage?: ScriptedUsage;
  /** The summary answering the condensation request made before this turn. */
  condense?: string;
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
  /** Coding sessions: index 0 holds the turns of iteration 1. */
  agent?: (AgentTurnEntry[] | null)[];
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
const agentTurnSchema = z.strictObject({
  content: storableText.optional(),
  tool_calls: z.array(z.strictObject({ name: z.string().min(1), arguments: z.unknown() })).optional(),
  expect: expectSchema.optional(),
  usage: usageSchema.optional(),
  condense: storableText.optional(),
});
const transcriptSchema = z.strictObject({
  version: z.literal(1, 'write `version: 1` (the only transcript format so far)'),
  plan: entrySchema.optional(),
  decompose: entrySchema.optional(),
  code: z.array(entrySchema.nullable()).default([]),
  agent: z.array(z.array(agentTurnSchema).nullable()).optional(),
}) satisfies z.ZodType<Transcript, unknown>;

/** "purpose code, iteration 2, repair round 1": how messages name a request. */
export function describeRequest(request: Pick<ChatRequest, 'purpose' | 'iteration' | 'repairRound' | 'turn'>): string {
  const parts = [`purpose ${request.purpose}`];
  if (request.purpose !== 'plan' && request.purpose !== 'decompose') parts.push(`iteration ${request.iteration ?? '(none)'}`);
  if (request.turn !== undefined) parts.push(`turn ${request.turn}`);
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
  if (request.purpose === 'plan' || request.purpose === 'decompose') return transcript[request.purpose];
  return request.iteration === undefined ? undefined : transcript.code[request.iteration - 1];
}

function turnFor(transcript: Transcript, request: ChatRequest): AgentTurnEntry | undefined {
  if (request.iteration === undefined || request.turn === undefined) return undefined;
  return transcript.agent?.[request.iteration - 1]?.[request.turn - 1];
}

/** The reply for `request`, or undefined when the transcript has none. */
export function replyFor(transcript: Transcript, request: ChatRequest): ScriptedReply | undefined {
  if (request.purpose === 'agent' || request.purpose === 'condense') {
    const turn = turnFor(transcript, request);
    if (!turn) return undefined;
    if (request.purpose === 'condense') return turn.condense === undefined ? undefined : { content: turn.condense };
    const toolCalls = (turn.tool_calls ?? []).map((call, index) => ({
      id: `call_${request.iteration}_${request.turn}_${index + 1}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
    }));
    return { content: turn.content ?? '', ...(turn.expect === undefined ? {} : { expect: turn.expect }), ...(turn.usage ? { usage: turn.usage } : {}), ...(toolCalls.length ? { toolCalls } : {}) };
  }
  const entry = entryFor(transcript, request);
  if (!entry) return undefined;
  return request.repairRound ? entry.repair : entry;
}

/** A copy of `transcript` in which `reply` answers `request` (the last answer wins). */
export function withReply(transcript: Transcript, request: ChatRequest, reply: ScriptedReply): Transcript {
  if (request.purpose === 'agent' || request.purpose === 'condense') return withTurn(transcript, request, reply);
  const previous = entryFor(transcript, request) ?? undefined;
  const entry: TranscriptEntry = request.repairRound ? { ...(previous ?? { content: '' }), repair: reply } : { ...reply };
  if (request.purpose !== 'code') return { ...transcript, [request.purpose]: entry };
  const index = (request.iteration ?? 1) - 1;
  const code = [...transcript.code];
  while (code.length < index) code.push(null);
  code[index] = entry;
  return { ...transcript, code };
}

function withTurn(transcript: Transcript, request: ChatRequest, reply: ScriptedReply): Transcript {
  const iteration = (request.iteration ?? 1) - 1;
  const turnIndex = (request.turn ?? 1) - 1;
  const agent = [...(transcript.agent ?? [])];
  while (agent.length <= iteration) agent.push(null);
  const turns = [...(agent[iteration] ?? [])];
  while (turns.length <= turnIndex) turns.push({});
  const previous = turns[turnIndex]!;
  if (request.purpose === 'condense') {
    turns[turnIndex] = { ...previous, condense: reply.content };
  } else {
    const toolCalls = reply.toolCalls?.map((call) => ({ name: call.name, arguments: parseArguments(call.arguments) }));
    turns[turnIndex] = {
      ...(previous.condense === undefined ? {} : { condense: previous.condense }),
      ...(reply.content === '' ? {} : { content: reply.content }),
      ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
      ...(reply.usage ? { usage: reply.usage } : {}),
    };
  }
  agent[iteration] = turns;
  return { ...transcript, agent };
}

/** Arguments as an object when they are JSON (readable in the file), else the text as sent. */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Writes `transcript` as YAML, replacing the file in one step so readers never see half of it. */
export async function writeTranscript(file: string, transcript: Transcript): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const staging = `${file}.tmp-${process.pid}`;
  await fs.writeFile(staging, YAML.stringify(transcript, { lineWidth: 0 }));
  await fs.rename(staging, file);
}
