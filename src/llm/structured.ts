/**
 * Structured answers: ask for JSON, validate it with a zod schema, and on invalid output make one
 * repair round-trip that shows the model its answer and what is wrong with it.
 */
import type { z } from 'zod';
import { FailureType, nonRetryable } from '../domain/errors';
import { addUsage, type TokenUsage } from '../domain/task';
import { describeIssues } from '../domain/task-input';
import type { ChatRequest, LlmClient } from './types';

export interface StructuredResult<T> {
  value: T;
  /** Both rounds when a repair was needed. */
  usage: TokenUsage;
  model: string;
  /** 1 when the value came from the repair round-trip. */
  repairRounds: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * The JSON value in a model's answer: the whole answer, else the inside of a ```json fence, else
 * the first balanced `{…}` (or `[…]`) after leading prose. Throws a message fit for the model.
 */
export function extractJson(answer: string): unknown {
  const text = answer.trim();
  const candidates = [text];
  const fence = /```(?:json|JSON)?[ \t]*\r?\n([\s\S]*?)```/.exec(text);
  if (fence?.[1] !== undefined) candidates.push(fence[1].trim());
  // Objects first: prose before the JSON may contain a "[".
  for (const open of ['{', '[']) {
    const start = text.indexOf(open);
    if (start >= 0) candidates.push(balancedPrefix(text.slice(start)));
  }
  // The last candidate is the most specific extraction, so its error explains best.
  let lastError: Error | undefined;
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate);
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw new Error(/[[{]/.test(text) ? `the answer is not valid JSON (${lastError?.message})` : 'the answer contains no JSON object');
}

/** The shortest prefix of `text` (which starts with `{` or `[`) that closes every bracket it opens. */
function balancedPrefix(text: string): string {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if ((ch === '}' || ch === ']') && --depth === 0) return text.slice(0, i + 1);
  }
  return text;
}

function parse<T>(answer: string, schema: z.ZodType<T>): Parsed<T> {
  let data: unknown;
  try {
    data = extractJson(answer);
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const result = schema.safeParse(data);
  return result.success ? { ok: true, value: result.data } : { ok: false, problem: describeIssues(result.error) };
}

/** The user message of the repair round-trip. */
function repairMessage(problem: string): string {
  return [
    'Your answer could not be used:',
    problem,
    'Answer again with only the corrected JSON object, in the format asked for above, and nothing else.',
  ].join('\n');
}

/**
 * Asks `client` for a JSON answer matching `schema` (JSON mode on unless `request.json` is false).
 * Invalid output gets exactly one repair round-trip (`repairRound: 1`); invalid again throws a
 * non-retryable `AdoError` of type `InvalidLlmOutput` carrying the problems and the usage spent.
 */
export async function chatStructured<T>(client: LlmClient, request: ChatRequest, schema: z.ZodType<T>): Promise<StructuredResult<T>> {
  const base: ChatRequest = { ...request, json: request.json ?? true };
  const first = await client.chat({ ...base, repairRound: 0 });
  const firstParse = parse(first.content, schema);
  if (firstParse.ok) return { value: firstParse.value, usage: first.usage, model: first.model, repairRounds: 0 };

  const second = await client.chat({
    ...base,
    repairRound: 1,
    messages: [...request.messages, { role: 'assistant', content: first.content }, { role: 'user', content: repairMessage(firstParse.problem) }],
  });
  const usage = addUsage(first.usage, second.usage);
  const secondParse = parse(second.content, schema);
  if (secondParse.ok) return { value: secondParse.value, usage, model: second.model, repairRounds: 1 };
  throw nonRetryable(
    FailureType.InvalidLlmOutput,
    `The model (${second.model}) gave no usable ${request.purpose} answer, even after a repair round-trip: ${secondParse.problem}. Try a stronger model for the ${request.role} role, or simplify the task.`,
    { details: [{ purpose: request.purpose, iteration: request.iteration, problems: [firstParse.problem, secondParse.problem], usage }] },
  );
}
