/**
 * The coding agent's settings from the environment.
 *
 * | variable | meaning |
 * |---|---|
 * | `ADO_CODER_MODE` | `one-shot` (one JSON list of edits per iteration, the default for now) or `agent` (a tool-calling session) |
 * | `ADO_CODER_TOOL_PROTOCOL` | `native` (OpenAI tool calling, default) or `text` (tool calls written in the answer, for models without tool calling) |
 * | `ADO_CODER_CONTEXT_WINDOW` | the coder model's context window in tokens (default 128000); the conversation is condensed near it |
 * | `ADO_CODER_MAX_STEPS` | tool calls per code iteration at most (default 60) |
 */
import { z } from 'zod';
import { optionalVar, parseEnv, wholeNumberVar } from '../config/env-schema';

export type CoderMode = 'one-shot' | 'agent';
export type ToolProtocol = 'native' | 'text';

export interface AgentConfig {
  mode: CoderMode;
  toolProtocol: ToolProtocol;
  contextWindow: number;
  maxSteps: number;
}

const envSchema = z.object({
  ADO_CODER_MODE: optionalVar(z.string().trim().pipe(z.enum(['one-shot', 'agent'], { error: 'expected "one-shot" or "agent"' }))).transform((v) => v ?? 'one-shot'),
  ADO_CODER_TOOL_PROTOCOL: optionalVar(
    z.string().trim().pipe(z.enum(['native', 'text'], { error: 'expected "native" (OpenAI tool calling) or "text" (calls written in the answer)' })),
  ).transform((v) => v ?? 'native'),
  ADO_CODER_CONTEXT_WINDOW: wholeNumberVar(128_000, 4096, 'tokens'),
  ADO_CODER_MAX_STEPS: wholeNumberVar(60, 1, 'steps'),
});

/** Reads the agent settings; a non-retryable `InvalidConfig` error names each wrong variable. */
export function agentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const e = parseEnv(envSchema, env, 'coding agent');
  return { mode: e.ADO_CODER_MODE, toolProtocol: e.ADO_CODER_TOOL_PROTOCOL, contextWindow: e.ADO_CODER_CONTEXT_WINDOW, maxSteps: e.ADO_CODER_MAX_STEPS };
}
