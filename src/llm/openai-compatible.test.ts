import { afterEach, describe, expect, it } from 'vitest';
import { agentToolSpecs } from '../domain/agent-tools';
import { FailureType } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { completion, freePort, sendJson, startChatServer, type ChatHandler, type ChatServer } from '../../test/llm/chat-server';
import { OpenAiCompatibleClient, type OpenAiCompatibleOptions, type RetryNotice } from './openai-compatible';
import type { ChatRequest } from './types';

const KEY = 'sk-test-secret-key-123';
let server: ChatServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: ChatHandler): Promise<ChatServer> {
  server = await startChatServer(handler);
  return server;
}

function clientFor(url: string, options: Partial<OpenAiCompatibleOptions> = {}): OpenAiCompatibleClient {
  return new OpenAiCompatibleClient({
    endpoints: {
      planner: { baseUrl: `${url}/`, apiKey: KEY, model: 'planner-model' },
      coder: { baseUrl: url, apiKey: 'sk-coder-key-456', model: 'coder-model' },
    },
    backoffMs: 10,
    ...options,
  });
}

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { role: 'planner', purpose: 'plan', taskId: 't-1', messages: [{ role: 'user', content: 'Plan it.' }], ...overrides };
}

describe('OpenAiCompatibleClient', () => {
  it('returns content, token usage and the LiteLLM cost header, authenticating per role', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, completion('The plan.'), { 'x-litellm-response-cost': '0.00042' }));
    const response = await clientFor(s.url).chat(request());

    expect(response).toEqual({
      content: 'The plan.',
      model: 'served-model',
      usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17, costUsd: 0.00042 },
    });
    const sent = s.requests[0];
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/chat/completions');
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toEqual({ model: 'planner-model', messages: [{ role: 'user', content: 'Plan it.' }] });

    await clientFor(s.url).chat(request({ role: 'coder' }));
    expect(s.requests[1]?.headers.authorization).toBe('Bearer sk-coder-key-456');
    expect(s.requests[1]?.body.model).toBe('coder-model');
  });

  it('asks for a JSON object in json mode and passes temperature and max tokens', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, completion('{}')));
    await clientFor(s.url).chat(request({ json: true, temperature: 0.2, maxTokens: 300 }));
    expect(s.requests[0]?.body).toMatchObject({ response_format: { type: 'json_object' }, temperature: 0.2, max_tokens: 300 });
  });

  it('sends no Authorization header when the key is empty, and estimates usage the endpoint omits', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, { choices: [{ message: { content: 'x'.repeat(40) } }] }));
    const client = new OpenAiCompatibleClient({
      endpoints: { planner: { baseUrl: s.url, apiKey: '', model: 'm' }, coder: { baseUrl: s.url, apiKey: '', model: 'm' } },
    });
    const response = await client.chat(request());
    expect(s.requests[0]?.headers.authorization).toBeUndefined();
    expect(response.model).toBe('m');
    expect(response.usage.completionTokens).toBe(10);
    expect(response.usage.costUsd).toBeUndefined();
  });

  it('waits as long as Retry-After says on 429 and then succeeds', async () => {
    const s = await serve((_req, res, index) => {
      if (index === 0) sendJson(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
      else sendJson(res, 200, completion('after the wait'));
    });
    const notices: RetryNotice[] = [];
    const response = await clientFor(s.url, { onRetry: (n) => notices.push(n) }).chat(request());

    expect(response.content).toBe('after the wait');
    expect(s.requests).toHaveLength(2);
    expect(notices).toEqual([{ role: 'planner', model: 'planner-model', retry: 1, delayMs: 1000, reason: 'HTTP 429: slow down' }]);
  });

  it('leaves a Retry-After longer than it waits itself to Temporal, as the next retry delay', async () => {
    const s = await serve((_req, res) => sendJson(res, 429, { error: { message: 'quota' } }, { 'retry-after': '120' }));
    const err = await adoErrorOf(clientFor(s.url).chat(request()));
    expect(s.requests).toHaveLength(1);
    expect(err.type).toBe(FailureType.LlmUnavailable);
    expect(err.nonRetryable).toBe(false);
    expect(err.options.nextRetryDelayMs).toBe(120_000);
  });

  it('retries 5xx with backoff, then throws a retryable error naming endpoint and model', async () => {
    const s = await serve((_req, res) => sendJson(res, 503, { error: { message: 'upstream overloaded' } }));
    const notices: RetryNotice[] = [];
    const err = await adoErrorOf(clientFor(s.url, { maxRetries: 2, onRetry: (n) => notices.push(n) }).chat(request()));

    expect(s.requests).toHaveLength(3);
    expect(notices.map((n) => n.delayMs)).toEqual([10, 20]);
    expect(err.type).toBe(FailureType.LlmUnavailable);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain(s.url);
    expect(err.message).toContain('planner-model');
    expect(err.message).toContain('HTTP 503: upstream overloaded');
    expect(err.message).toContain('3 attempts');
  });

  it('fails at once, not retryable, on 401, without repeating the key the server echoed', async () => {
    const s = await serve((req, res) =>
      sendJson(res, 401, { error: { message: `Invalid key ${String(req.headers.authorization).slice(7)}` } }),
    );
    const err = await adoErrorOf(clientFor(s.url).chat(request()));

    expect(s.requests).toHaveLength(1);
    expect(err.type).toBe(FailureType.LlmRejected);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('HTTP 401');
    expect(err.message).toContain(s.url);
    expect(err.message).toContain('planner-model');
    expect(err.message).toContain('ADO_LLM_API_KEY');
    expect(err.message).not.toContain(KEY);
  });

  it('fails at once, not retryable, on 400 with the server explanation', async () => {
    const s = await serve((_req, res) => sendJson(res, 400, { error: { message: 'Invalid model name passed in model=nope' } }));
    const err = await adoErrorOf(clientFor(s.url).chat(request()));
    expect(s.requests).toHaveLength(1);
    expect(err.type).toBe(FailureType.LlmRejected);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('Invalid model name passed in model=nope');
  });

  it('turns a 200 that is no chat completion into a non-retryable configuration error', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>Welcome</html>');
    });
    const err = await adoErrorOf(clientFor(s.url).chat(request()));
    expect(err.type).toBe(FailureType.InvalidConfig);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('ADO_LLM_BASE_URL');
  });

  it('gives up an attempt after the timeout and reports it as retryable', async () => {
    const s = await serve(() => {}); // never answers
    const err = await adoErrorOf(clientFor(s.url, { timeoutMs: 200, maxRetries: 0 }).chat(request()));
    expect(err.type).toBe(FailureType.LlmUnavailable);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('200 ms');
    await s.requests[0]?.closed;
  });

  it('retries connection errors and then reports them as retryable', async () => {
    const port = await freePort();
    const notices: RetryNotice[] = [];
    const err = await adoErrorOf(clientFor(`http://127.0.0.1:${port}`, { maxRetries: 1, onRetry: (n) => notices.push(n) }).chat(request()));
    expect(notices).toHaveLength(1);
    expect(err.type).toBe(FailureType.LlmUnavailable);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('cancels the HTTP request when the signal aborts, and rethrows the abort reason', async () => {
    let received: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const s = await serve(() => received()); // holds the response
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const pending = clientFor(s.url).chat(request({ signal: controller.signal }));
    await arrived;
    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
    await s.requests[0]?.closed; // the server saw the socket close
    expect(s.requests).toHaveLength(1);
  });

  it('calls onProgress while waiting for the answer', async () => {
    let progressCalls = 0;
    let twice: () => void = () => {};
    const progressed = new Promise<void>((resolve) => (twice = resolve));
    // The server answers only after the client has reported progress twice.
    const s = await serve(async (_req, res) => {
      await progressed;
      sendJson(res, 200, completion('done'));
    });
    const onProgress = () => {
      if (++progressCalls === 2) twice();
    };
    const response = await clientFor(s.url, { progressIntervalMs: 20 }).chat(request({ onProgress }));
    expect(response.content).toBe('done');
    expect(progressCalls).toBeGreaterThanOrEqual(2);
  });

  it('sends tools, tool calls and tool results in OpenAI field names and reads the tool calls of the answer', async () => {
    const answer = completion('');
    answer.choices[0]!.message = { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'view', arguments: '{"path":"a.ts"}' } }] } as never;
    const s = await serve((_req, res) => sendJson(res, 200, answer));
    const tools = agentToolSpecs().slice(0, 1);
    const response = await clientFor(s.url).chat(
      request({
        role: 'coder',
        purpose: 'agent',
        tools,
        messages: [
          { role: 'user', content: 'Fix it.' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"pattern":"x"}' }] },
          { role: 'tool', toolCallId: 'call_1', content: 'a.ts: 1' },
        ],
      }),
    );
    expect(response.toolCalls).toEqual([{ id: 'call_9', name: 'view', arguments: '{"path":"a.ts"}' }]);
    expect(response.content).toBe('');
    expect(s.requests[0]?.body).toEqual({
      model: 'coder-model',
      tools,
      tool_choice: 'auto',
      messages: [
        { role: 'user', content: 'Fix it.' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"pattern":"x"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a.ts: 1' },
      ],
    });
  });
});
