import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FailureType } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { chatStructured, extractJson } from './structured';
import type { ChatRequest, ChatResponse, LlmClient } from './types';

/** Gives the answers in order and keeps every request. */
class QueuedLlm implements LlmClient {
  readonly requests: ChatRequest[] = [];
  constructor(private readonly answers: string[]) {}
  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const content = this.answers[this.requests.length - 1];
    if (content === undefined) throw new Error('no more answers');
    return { content, model: 'queued', usage: { promptTokens: 10, completionTokens: 4, totalTokens: 14, costUsd: 0.5 } };
  }
}

const schema = z.object({ subtasks: z.array(z.object({ id: z.string(), title: z.string() })).min(1) });
const valid = { subtasks: [{ id: '1', title: 'Validate' }] };
const request: ChatRequest = {
  role: 'planner',
  purpose: 'decompose',
  taskId: 't-1',
  messages: [
    { role: 'system', content: 'Answer JSON.' },
    { role: 'user', content: 'Split the plan.' },
  ],
};

describe('chatStructured', () => {
  it('returns the validated value of a valid answer in JSON mode, with one round of usage', async () => {
    const llm = new QueuedLlm([JSON.stringify(valid)]);
    const result = await chatStructured(llm, request, schema);
    expect(result).toEqual({ value: valid, model: 'queued', repairRounds: 0, usage: { promptTokens: 10, completionTokens: 4, totalTokens: 14, costUsd: 0.5 } });
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]).toMatchObject({ json: true, repairRound: 0, messages: request.messages });
  });

  it('accepts JSON in a ```json fence after leading prose', async () => {
    const llm = new QueuedLlm([`Here you go:\n\n\`\`\`json\n${JSON.stringify(valid, null, 2)}\n\`\`\`\nHope it helps [1].`]);
    expect((await chatStructured(llm, request, schema)).value).toEqual(valid);
  });

  it('repairs invalid output with one round-trip that shows the answer and the problems, summing usage', async () => {
    const bad = '{"subtasks": []}';
    const llm = new QueuedLlm([bad, JSON.stringify(valid)]);
    const result = await chatStructured(llm, request, schema);

    expect(result.value).toEqual(valid);
    expect(result.repairRounds).toBe(1);
    expect(result.usage).toEqual({ promptTokens: 20, completionTokens: 8, totalTokens: 28, costUsd: 1 });
    const repair = llm.requests[1];
    expect(repair?.repairRound).toBe(1);
    expect(repair?.messages.slice(0, 2)).toEqual(request.messages);
    expect(repair?.messages[2]).toEqual({ role: 'assistant', content: bad });
    expect(repair?.messages[3]?.role).toBe('user');
    expect(repair?.messages[3]?.content).toContain('subtasks');
    expect(repair?.messages[3]?.content).toMatch(/at least 1|>=1/);
  });

  it('throws a non-retryable InvalidLlmOutput with the problems when the repaired answer is invalid too', async () => {
    const llm = new QueuedLlm(['I cannot do that.', '{"subtasks": [{"id": 1}]}']);
    const ado = await adoErrorOf(chatStructured(llm, request, schema));

    expect(llm.requests).toHaveLength(2);
    expect(ado.type).toBe(FailureType.InvalidLlmOutput);
    expect(ado.nonRetryable).toBe(true);
    expect(ado.message).toContain('decompose');
    expect(ado.message).toContain('subtasks.0.id');
    expect(ado.message).toContain('subtasks.0.title');
    expect(ado.options.details?.[0]).toMatchObject({ problems: ['the answer contains no JSON object', expect.stringContaining('subtasks.0.id')] });
  });
});

describe('extractJson', () => {
  it('finds the object after prose, ignoring brackets inside strings', () => {
    expect(extractJson('Sure [see below]: {"a": "x}y", "b": [1, {"c": "\\"}"}]} trailing')).toEqual({ a: 'x}y', b: [1, { c: '"}' }] });
  });

  it('says why an answer is not JSON', () => {
    expect(() => extractJson('no json here')).toThrow('contains no JSON object');
    expect(() => extractJson('{"a": 1,}')).toThrow('not valid JSON');
  });
});
