import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { createLlmClient, describeLlmConfig, llmConfigFromEnv } from './config';
import { OpenAiCompatibleClient } from './openai-compatible';
import { RecordingLlmClient } from './recording';
import { ScriptedLlmClient } from './scripted';

const openAiEnv = { ADO_LLM_BASE_URL: 'http://127.0.0.1:4000/', ADO_LLM_API_KEY: 'sk-master', ADO_LLM_MODEL: 'gpt-4o-mini' };

function configError(env: NodeJS.ProcessEnv): AdoError {
  try {
    llmConfigFromEnv(env, '/work');
  } catch (err) {
    expect(err).toBeInstanceOf(AdoError);
    expect((err as AdoError).type).toBe(FailureType.InvalidConfig);
    expect((err as AdoError).nonRetryable).toBe(true);
    return err as AdoError;
  }
  throw new Error('expected a configuration error');
}

describe('llmConfigFromEnv', () => {
  it('reads one endpoint for both roles, with defaults for timeout and retries', () => {
    const config = llmConfigFromEnv(openAiEnv, '/work');
    const endpoint = { baseUrl: 'http://127.0.0.1:4000', apiKey: 'sk-master', model: 'gpt-4o-mini' };
    expect(config).toEqual({ provider: 'openai', endpoints: { planner: endpoint, coder: endpoint }, timeoutMs: 180_000, maxRetries: 2 });
  });

  it('lets each role override base URL, key and model', () => {
    const config = llmConfigFromEnv(
      {
        ...openAiEnv,
        ADO_PLANNER_MODEL: 'big-model',
        ADO_CODER_BASE_URL: 'https://coder.example/v1',
        ADO_CODER_API_KEY: 'sk-coder',
        ADO_LLM_TIMEOUT_MS: '5000',
        ADO_LLM_MAX_RETRIES: '0',
        ADO_LLM_RECORD: 'runs/rec.yml',
      },
      '/work',
    );
    expect(config).toMatchObject({
      provider: 'openai',
      endpoints: {
        planner: { baseUrl: 'http://127.0.0.1:4000', apiKey: 'sk-master', model: 'big-model' },
        coder: { baseUrl: 'https://coder.example/v1', apiKey: 'sk-coder', model: 'gpt-4o-mini' },
      },
      timeoutMs: 5000,
      maxRetries: 0,
      recordPath: '/work/runs/rec.yml',
    });
  });

  it('requires the API key to be set, and takes an empty one as "no authentication"', () => {
    const { ADO_LLM_API_KEY: _key, ...withoutKey } = openAiEnv;
    const err = configError(withoutKey);
    expect(err.message).toContain('ADO_LLM_API_KEY');
    expect(err.message).toContain('empty string');

    const config = llmConfigFromEnv({ ...withoutKey, ADO_LLM_API_KEY: '' }, '/work');
    expect(config.provider === 'openai' && config.endpoints.coder.apiKey).toBe('');
  });

  it('names every missing or malformed variable and what to set, once, without echoing secrets', () => {
    const err = configError({ ADO_LLM_API_KEY: 'sk-very-secret', ADO_LLM_TIMEOUT_MS: 'soon', ADO_LLM_BASE_URL: 'localhost:4000' });
    expect(err.message).toContain('ADO_LLM_TIMEOUT_MS: expected a whole number of milliseconds');
    expect(err.message).toContain('ADO_LLM_BASE_URL: expected an http(s) URL');
    expect(err.message).not.toContain('sk-very-secret');

    const missing = configError({ ADO_LLM_API_KEY: 'k' });
    expect(missing.message).toContain('ADO_LLM_BASE_URL is not set: set it to your OpenAI-compatible endpoint');
    expect(missing.message).toContain('ADO_LLM_PROVIDER=scripted');
    expect(missing.message.split('ADO_LLM_MODEL is not set').length).toBe(2); // once, not once per role

    const coderOnly = configError({ ...openAiEnv, ADO_LLM_MODEL: undefined, ADO_PLANNER_MODEL: 'm' });
    expect(coderOnly.message).toContain('ADO_LLM_MODEL is not set (nor ADO_CODER_MODEL)');
  });

  it('rejects an unknown provider', () => {
    expect(configError({ ADO_LLM_PROVIDER: 'anthropic' }).message).toContain('ADO_LLM_PROVIDER: expected "openai"');
  });

  it('picks the scripted provider when a transcript is given, with an optional request log', () => {
    expect(llmConfigFromEnv({ ADO_LLM_TRANSCRIPT: 'test/t.yml', ADO_LLM_REQUEST_LOG: '/tmp/req.jsonl' }, '/work')).toEqual({
      provider: 'scripted',
      transcriptPath: '/work/test/t.yml',
      requestLogPath: '/tmp/req.jsonl',
    });
    expect(configError({ ADO_LLM_PROVIDER: 'scripted' }).message).toContain('ADO_LLM_TRANSCRIPT is not set');
    expect(configError({ ADO_LLM_TRANSCRIPT: 't.yml', ADO_LLM_RECORD: 'r.yml' }).message).toContain('ADO_LLM_RECORD');
  });
});

describe('createLlmClient', () => {
  it('builds the client the configuration names', () => {
    expect(createLlmClient(llmConfigFromEnv({ ADO_LLM_TRANSCRIPT: 't.yml' }, '/work'))).toBeInstanceOf(ScriptedLlmClient);
    expect(createLlmClient(llmConfigFromEnv(openAiEnv, '/work'))).toBeInstanceOf(OpenAiCompatibleClient);
    expect(createLlmClient(llmConfigFromEnv({ ...openAiEnv, ADO_LLM_RECORD: 'r.yml' }, '/work'))).toBeInstanceOf(RecordingLlmClient);
  });

  it('describes the configuration without keys', () => {
    const text = describeLlmConfig(llmConfigFromEnv(openAiEnv, '/work'));
    expect(text).toBe('planner: gpt-4o-mini at http://127.0.0.1:4000, coder: gpt-4o-mini at http://127.0.0.1:4000');
    expect(text).not.toContain('sk-master');
  });
});
