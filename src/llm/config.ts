/**
 * LLM settings from the environment, and the client they describe.
 *
 * | variable | meaning |
 * |---|---|
 * | `ADO_LLM_PROVIDER` | `openai` (any OpenAI-compatible endpoint, e.g. a LiteLLM proxy) or `scripted` (offline replay); default `scripted` when `ADO_LLM_TRANSCRIPT` is set, else `openai` |
 * | `ADO_LLM_BASE_URL` | endpoint root; requests go to `<base>/chat/completions` (LiteLLM: `http://127.0.0.1:4000`, OpenAI: `https://api.openai.com/v1`) |
 * | `ADO_LLM_API_KEY` | secret, no default: must be set; set it to the empty string for an endpoint without authentication (local vLLM, Ollama) |
 * | `ADO_LLM_MODEL` | model name as the endpoint knows it |
 * | `ADO_PLANNER_*`, `ADO_CODER_*` | per-role `BASE_URL`, `API_KEY`, `MODEL`; each falls back to the `ADO_LLM_*` one |
 * | `ADO_LLM_TIMEOUT_MS` | per HTTP attempt, default 180000 |
 * | `ADO_LLM_MAX_RETRIES` | retries inside one call for 429/5xx/connection errors, default 2 (then Temporal retries the activity) |
 * | `ADO_LLM_RECORD` | `openai` only: record every answer into this transcript file, to replay offline later |
 * | `ADO_LLM_TRANSCRIPT` | `scripted`: the transcript to replay (format in transcript.ts) |
 * | `ADO_LLM_REQUEST_LOG` | `scripted`: append every request it answers to this JSON-lines file |
 */
import path from 'node:path';
import { z } from 'zod';
import { invalidConfig, optionalVar, parseEnv, wholeNumberVar } from '../config/env-schema';
import type { Logger } from '../telemetry/logger';
import { OpenAiCompatibleClient, type LlmEndpoint } from './openai-compatible';
import { RecordingLlmClient } from './recording';
import { ScriptedLlmClient } from './scripted';
import type { LlmClient, LlmRole } from './types';

export interface OpenAiLlmConfig {
  provider: 'openai';
  endpoints: Record<LlmRole, LlmEndpoint>;
  timeoutMs: number;
  maxRetries: number;
  /** Record answers into this transcript. */
  recordPath?: string;
}

export interface ScriptedLlmConfig {
  provider: 'scripted';
  transcriptPath: string;
  requestLogPath?: string;
}

export type LlmConfig = OpenAiLlmConfig | ScriptedLlmConfig;

const ROLES: readonly LlmRole[] = ['planner', 'coder'];

/** Unset and empty are the same, except for API keys (empty means "no authentication"). */
const optionalText = optionalVar(z.string().trim());

const baseUrl = optionalVar(
  z
    .string()
    .trim()
    .pipe(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:4000' }).transform((v) => v.replace(/\/+$/, ''))),
);

const envSchema = z.object({
  ADO_LLM_PROVIDER: optionalVar(
    z
      .string()
      .trim()
      .pipe(z.enum(['openai', 'scripted'], { error: 'expected "openai" (an OpenAI-compatible endpoint) or "scripted" (replay a transcript)' })),
  ),
  ADO_LLM_BASE_URL: baseUrl,
  ADO_PLANNER_BASE_URL: baseUrl,
  ADO_CODER_BASE_URL: baseUrl,
  ADO_LLM_API_KEY: z.string().optional(),
  ADO_PLANNER_API_KEY: z.string().optional(),
  ADO_CODER_API_KEY: z.string().optional(),
  ADO_LLM_MODEL: optionalText,
  ADO_PLANNER_MODEL: optionalText,
  ADO_CODER_MODEL: optionalText,
  ADO_LLM_TIMEOUT_MS: wholeNumberVar(180_000, 1, 'milliseconds'),
  ADO_LLM_MAX_RETRIES: wholeNumberVar(2, 0, 'retries'),
  ADO_LLM_TRANSCRIPT: optionalText,
  ADO_LLM_REQUEST_LOG: optionalText,
  ADO_LLM_RECORD: optionalText,
});
type LlmEnv = z.infer<typeof envSchema>;

/**
 * Reads the LLM settings from `env` (see the table above). Throws a non-retryable `AdoError`
 * (`InvalidConfig`) naming every variable that is missing or wrong and what to set.
 * Relative paths are resolved against `cwd`.
 */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LlmConfig {
  const e = parseEnv(envSchema, env, 'LLM');
  const provider = e.ADO_LLM_PROVIDER ?? (e.ADO_LLM_TRANSCRIPT ? 'scripted' : 'openai');
  return provider === 'scripted' ? scriptedConfig(e, cwd) : openAiConfig(e, cwd);
}

function scriptedConfig(e: LlmEnv, cwd: string): ScriptedLlmConfig {
  const problems: string[] = [];
  if (!e.ADO_LLM_TRANSCRIPT) problems.push('ADO_LLM_TRANSCRIPT is not set: name the transcript file the scripted provider replays');
  if (e.ADO_LLM_RECORD) problems.push('ADO_LLM_RECORD records a real endpoint: unset it, or set ADO_LLM_PROVIDER=openai');
  if (problems.length || !e.ADO_LLM_TRANSCRIPT) throw invalidConfig('LLM', problems.join('; '));
  return {
    provider: 'scripted',
    transcriptPath: path.resolve(cwd, e.ADO_LLM_TRANSCRIPT),
    ...(e.ADO_LLM_REQUEST_LOG ? { requestLogPath: path.resolve(cwd, e.ADO_LLM_REQUEST_LOG) } : {}),
  };
}

/** What to set for each per-role variable, when neither it nor its `ADO_LLM_*` fallback is set. */
const ENDPOINT_VARS = {
  BASE_URL:
    'set it to your OpenAI-compatible endpoint, e.g. http://127.0.0.1:4000 for a LiteLLM proxy, or run offline with ADO_LLM_PROVIDER=scripted and ADO_LLM_TRANSCRIPT=<file>',
  API_KEY: "set it to the endpoint's key, or to the empty string if the endpoint needs none",
  MODEL: 'name the model as the endpoint knows it',
} as const;
type EndpointVar = keyof typeof ENDPOINT_VARS;

function roleUpper(role: LlmRole): 'PLANNER' | 'CODER' {
  return role === 'planner' ? 'PLANNER' : 'CODER';
}

function openAiConfig(e: LlmEnv, cwd: string): OpenAiLlmConfig {
  const value = (role: LlmRole, name: EndpointVar) => e[`ADO_${roleUpper(role)}_${name}`] ?? e[`ADO_LLM_${name}`];
  const problems: string[] = [];
  for (const name of Object.keys(ENDPOINT_VARS) as EndpointVar[]) {
    const missing = ROLES.filter((role) => value(role, name) === undefined);
    const only = missing.length === 1 && missing[0] ? ` (nor ADO_${roleUpper(missing[0])}_${name})` : '';
    if (missing.length) problems.push(`ADO_LLM_${name} is not set${only}: ${ENDPOINT_VARS[name]}`);
  }
  if (e.ADO_LLM_REQUEST_LOG) problems.push('ADO_LLM_REQUEST_LOG belongs to the scripted provider: unset it, or set ADO_LLM_PROVIDER=scripted');
  if (problems.length) throw invalidConfig('LLM', problems.join('; '));
  const endpoint = (role: LlmRole): LlmEndpoint => ({
    baseUrl: value(role, 'BASE_URL') ?? '',
    apiKey: value(role, 'API_KEY')?.trim() ?? '',
    model: value(role, 'MODEL') ?? '',
  });
  return {
    provider: 'openai',
    endpoints: { planner: endpoint('planner'), coder: endpoint('coder') },
    timeoutMs: e.ADO_LLM_TIMEOUT_MS,
    maxRetries: e.ADO_LLM_MAX_RETRIES,
    ...(e.ADO_LLM_RECORD ? { recordPath: path.resolve(cwd, e.ADO_LLM_RECORD) } : {}),
  };
}

export interface LlmClientDeps {
  /** Retries are logged here (warn). */
  logger?: Logger;
}

/** The client `config` describes: scripted replay, or the OpenAI-compatible client (recording when asked). */
export function createLlmClient(config: LlmConfig, deps: LlmClientDeps = {}): LlmClient {
  if (config.provider === 'scripted') {
    return new ScriptedLlmClient({ transcriptPath: config.transcriptPath, requestLogPath: config.requestLogPath });
  }
  const client = new OpenAiCompatibleClient({
    endpoints: config.endpoints,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    onRetry: (notice) => deps.logger?.warn(notice, `LLM call failed (${notice.reason}); retrying in ${notice.delayMs} ms`),
  });
  return config.recordPath ? new RecordingLlmClient(client, config.recordPath) : client;
}

/** Every role's endpoint, for startup logs (no keys). */
export function describeLlmConfig(config: LlmConfig): string {
  if (config.provider === 'scripted') return `scripted LLM replaying ${config.transcriptPath}`;
  return ROLES.map((role) => `${role}: ${config.endpoints[role].model} at ${config.endpoints[role].baseUrl}`).join(', ');
}
