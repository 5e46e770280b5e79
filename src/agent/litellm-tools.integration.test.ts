/**
 * The agent's tool-calling protocol against a real LiteLLM proxy whose mock model answers with
 * tool calls in the OpenAI format: the request carries the tools' JSON schemas, the answer's calls
 * come back checked, and a conversation with tool results is accepted by the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiteLlmProxy, type LiteLlmProxy } from '../../test/llm/litellm-proxy';
import { OpenAiCompatibleClient } from '../llm/openai-compatible';
import { assistantMessage, observationMessage, parseCalls, turnRequest } from './protocol';
import { openingMessages } from './prompt';

let proxy: LiteLlmProxy;

beforeAll(async () => {
  proxy = await startLiteLlmProxy({
    models: [
      {
        name: 'ado-tools',
        mockResponse: '',
        mockToolCalls: [
          { id: 'call_abc', type: 'function', function: { name: 'search', arguments: '{"pattern": "validateEmail", "show_lines": true}' } },
          { id: 'call_def', type: 'function', function: { name: 'view', arguments: '{"path": "src/signup.ts", "view_range": [1, 20]}' } },
        ],
      },
    ],
    log: (line) => console.log(`[litellm] ${line}`),
  });
}, 15 * 60_000);

afterAll(async () => {
  await proxy?.stop();
});

describe('tool calling through a LiteLLM proxy', () => {
  it('sends the tools, gets OpenAI tool calls back, and sends their results on the next turn', async () => {
    const client = new OpenAiCompatibleClient({
      endpoints: { planner: { baseUrl: proxy.url, apiKey: proxy.masterKey, model: 'ado-tools' }, coder: { baseUrl: proxy.url, apiKey: proxy.masterKey, model: 'ado-tools' } },
      maxRetries: 0,
    });
    const id = { taskId: 'litellm-tools', iteration: 1, turn: 1 };
    const messages = openingMessages({ prompt: 'Validate the e-mail on signup.' });
    const response = await client.chat(turnRequest(id, messages, 'native'));
    const assistant = assistantMessage(response, 'native', id);
    const calls = parseCalls(assistant, id);
    expect(calls).toEqual([
      { ok: true, call: { id: 'call_abc', name: 'search', args: { pattern: 'validateEmail', show_lines: true } } },
      { ok: true, call: { id: 'call_def', name: 'view', args: { path: 'src/signup.ts', view_range: [1, 20] } } },
    ]);

    const next = [...messages, assistant, observationMessage('call_abc', 1, 'src/signup.ts:3:validateEmail', 'native'), observationMessage('call_def', 2, '1\tcode', 'native')];
    const second = await client.chat(turnRequest({ ...id, turn: 2 }, next, 'native'));
    expect(second.toolCalls?.map((c) => c.name)).toEqual(['search', 'view']);
    expect(proxy.output().split('"POST /chat/completions HTTP/1.1" 200').length - 1).toBe(2);
  });
});
