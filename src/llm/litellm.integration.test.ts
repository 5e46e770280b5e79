/**
 * The OpenAI-compatible client against a real LiteLLM proxy (installed from PyPI into ADO's cache
 * on first run, then reused) serving mock models: no provider is called, no network is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { startLiteLlmProxy, type LiteLlmProxy } from '../../test/llm/litellm-proxy';
import { OpenAiCompatibleClient, type RetryNotice } from './openai-compatible';
import { subtasksAnswerSchema } from './prompts';
import { chatStructured } from './structured';
import type { ChatRequest } from './types';

const SUBTASKS = { subtasks: [{ id: '1', title: 'Validate the e-mail', description: 'Reject addresses without @' }] };
let proxy: LiteLlmProxy;

beforeAll(async () => {
  proxy = await startLiteLlmProxy({
    models: [
      { name: 'ado-plain', mockResponse: 'A plan from the proxy.' },
      { name: 'ado-json', mockResponse: JSON.stringify(SUBTASKS) },
      { name: 'ado-rate-limited', mockResponse: 'litellm.RateLimitError' },
    ],
    log: (line) => console.log(`[litellm] ${line}`),
  });
}, 15 * 60_000);

afterAll(async () => {
  await proxy?.stop();
});

function client(planner: string, coder: string, apiKey = proxy.masterKey, onRetry?: (n: RetryNotice) => void): OpenAiCompatibleClient {
  return new OpenAiCompatibleClient({
    endpoints: { planner: { baseUrl: proxy.url, apiKey, model: planner }, coder: { baseUrl: proxy.url, apiKey, model: coder } },
    backoffMs: 50,
    maxRetries: 2,
    onRetry,
  });
}

const ask = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  role: 'planner',
  purpose: 'plan',
  taskId: 'litellm-it',
  messages: [{ role: 'user', content: 'Plan the change.' }],
  ...overrides,
});

/** Chat requests the proxy answered with `status`, from its access log. */
const answered = (status: number) => proxy.output().split(`"POST /chat/completions HTTP/1.1" ${status}`).length - 1;

describe('OpenAiCompatibleClient against a LiteLLM proxy', () => {
  it('authenticates with the key and gets content, token usage and the cost LiteLLM reports', async () => {
    const response = await client('ado-plain', 'ado-json').chat(ask());
    expect(response.content).toBe('A plan from the proxy.');
    expect(response.model).toBe('ado-plain');
    expect(response.usage.promptTokens).toBeGreaterThan(0);
    expect(response.usage.completionTokens).toBeGreaterThan(0);
    expect(response.usage.totalTokens).toBe(response.usage.promptTokens + response.usage.completionTokens);
    expect(response.usage.costUsd).toBeGreaterThan(0);
  });

  it('gets a validated structured answer in JSON mode through the proxy', async () => {
    const result = await chatStructured(client('ado-plain', 'ado-json'), ask({ role: 'coder', purpose: 'decompose' }), subtasksAnswerSchema);
    expect(result.value).toEqual(SUBTASKS);
    expect(result.repairRounds).toBe(0);
  });

  it('retries a rate limit, then hands a retryable error to Temporal', async () => {
    const before = answered(429);
    const notices: RetryNotice[] = [];
    const err = await adoErrorOf(client('ado-rate-limited', 'ado-json', proxy.masterKey, (n) => notices.push(n)).chat(ask()));

    expect(answered(429) - before).toBe(3);
    expect(notices.map((n) => n.retry)).toEqual([1, 2]);
    expect(notices[0]?.reason).toContain('HTTP 429');
    expect(err.type).toBe(FailureType.LlmUnavailable);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('ado-rate-limited');
  });

  it('fails fast and not retryable on a bad key, without repeating the key', async () => {
    const badKey = 'sk-not-the-master-key-0000';
    const before = answered(400) + answered(401);
    const err = await adoErrorOf(client('ado-plain', 'ado-json', badKey).chat(ask()));

    // LiteLLM without a database answers 400 "No connected db." for any key but the master key; with one, 401.
    expect(answered(400) + answered(401) - before).toBe(1);
    expect(err.type).toBe(FailureType.LlmRejected);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(proxy.url);
    expect(err.message).toContain('ADO_LLM_API_KEY');
    expect(err.message).not.toContain(badKey);
  });
});
