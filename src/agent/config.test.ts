import { describe, expect, it } from 'vitest';
import { adoErrorOf } from '../../test/llm/ado-error';
import { agentConfigFromEnv } from './config';

describe('agentConfigFromEnv', () => {
  it('defaults to the one-shot coder, native tool calling, a 128k window and 60 steps', () => {
    expect(agentConfigFromEnv({})).toEqual({ mode: 'one-shot', toolProtocol: 'native', contextWindow: 128_000, maxSteps: 60 });
  });

  it('reads every variable', () => {
    expect(agentConfigFromEnv({ ADO_CODER_MODE: 'agent', ADO_CODER_TOOL_PROTOCOL: 'text', ADO_CODER_CONTEXT_WINDOW: '32000', ADO_CODER_MAX_STEPS: '15' })).toEqual({
      mode: 'agent',
      toolProtocol: 'text',
      contextWindow: 32_000,
      maxSteps: 15,
    });
  });

  it('names each wrong variable', async () => {
    const err = await adoErrorOf(Promise.resolve().then(() => agentConfigFromEnv({ ADO_CODER_TOOL_PROTOCOL: 'xml', ADO_CODER_CONTEXT_WINDOW: '100' })));
    expect(err.message).toContain('ADO_CODER_TOOL_PROTOCOL');
    expect(err.message).toContain('expected "native"');
    expect(err.message).toContain('ADO_CODER_CONTEXT_WINDOW');
  });
});
