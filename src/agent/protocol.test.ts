import { describe, expect, it } from 'vitest';
import { AGENT_TOOL_NAMES } from '../domain/agent-tools';
import { assistantMessage, observationMessage, parseCalls, turnRequest } from './protocol';
import type { SessionMessage } from './conversation';

const id = { taskId: 't', iteration: 2, turn: 5 };
const opening: SessionMessage[] = [
  { role: 'system', content: 'You are a coder.' },
  { role: 'user', content: 'Task.' },
];

describe('native tool calling', () => {
  it('offers every tool with its JSON schema and reads the calls back', () => {
    const request = turnRequest(id, opening, 'native');
    expect(request).toMatchObject({ purpose: 'agent', role: 'coder', iteration: 2, turn: 5 });
    expect(request.tools!.map((t) => t.function.name)).toEqual(AGENT_TOOL_NAMES);
    expect(request.tools!.find((t) => t.function.name === 'view')!.function.parameters).toMatchObject({ type: 'object', required: ['path'] });
    const message = assistantMessage({ content: '', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, model: 'm', toolCalls: [{ id: 'x1', name: 'view', arguments: '{"path":"a.ts"}' }] }, 'native', id);
    expect(parseCalls(message, id)).toEqual([{ ok: true, call: { id: 'x1', name: 'view', args: { path: 'a.ts' } } }]);
    expect(observationMessage('x1', 3, 'contents', 'native')).toEqual({ role: 'tool', toolCallId: 'x1', content: 'contents', observationOf: 3 });
  });

  it('turns malformed calls into format errors for the model', () => {
    const message: SessionMessage = {
      role: 'assistant',
      content: '',
      toolCalls: [
        { id: 'a', name: 'frobnicate', arguments: '{}' },
        { id: 'b', name: 'view', arguments: '{"path": ' },
        { id: 'c', name: 'str_replace', arguments: '{"path":"a.ts"}' },
      ],
    };
    const parsed = parseCalls(message, id);
    expect(parsed.map((p) => p.ok)).toEqual([false, false, false]);
    expect(parsed.map((p) => (p.ok ? '' : p.error))).toEqual([
      expect.stringContaining('Unknown tool "frobnicate". The tools are: view, search'),
      expect.stringContaining('The arguments of view are not valid JSON'),
      expect.stringMatching(/The arguments of str_replace do not fit its schema: old_str: .+; new_str: .+/),
    ]);
    const none = parseCalls({ role: 'assistant', content: 'I think it is done.' }, id);
    expect(none).toEqual([{ ok: false, id: 'call_2_5_none', error: expect.stringContaining('Your answer called no tool') }]);
  });
});

describe('text protocol', () => {
  it('describes the tools in the system prompt and reads <tool_call> blocks from the answer', () => {
    const request = turnRequest(id, [...opening, { role: 'tool', toolCallId: 'call_2_4_1', content: 'old result', observationOf: 1 }], 'text');
    expect(request.tools).toBeUndefined();
    expect(request.messages[0]!.content).toContain('- repo_map: ');
    expect(request.messages[0]!.content).toContain('<tool_call>');
    expect(request.messages[2]).toEqual({ role: 'user', content: '<tool_result id="call_2_4_1">\nold result\n</tool_result>' });
    const answer = 'Let me look.\n<tool_call>\n{"name": "search", "arguments": {"pattern": "signup"}}\n</tool_call>\n<tool_call>\nnot json\n</tool_call>';
    const message = assistantMessage({ content: answer, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, model: 'm' }, 'text', id);
    const parsed = parseCalls(message, id);
    expect(parsed[0]).toEqual({ ok: true, call: { id: 'call_2_5_1', name: 'search', args: { pattern: 'signup' } } });
    expect(parsed[1]).toMatchObject({ ok: false, id: 'call_2_5_2', error: expect.stringContaining('could not be read') });
    expect(observationMessage('call_2_5_1', 4, 'found', 'text').content).toBe('<tool_result id="call_2_5_1">\nfound\n</tool_result>');
  });
});
