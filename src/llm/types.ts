/**
 * The LLM contract: chat completions against an OpenAI-compatible endpoint (LiteLLM proxy, OpenAI,
 * vLLM, Ollama) or the offline scripted provider that replays a transcript.
 */
import type { TokenUsage } from '../domain/task';

export type LlmRole = 'planner' | 'coder';

/** What the call is for; the scripted provider finds its answer by it. */
export type LlmPurpose = 'plan' | 'decompose' | 'code';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  role: LlmRole;
  purpose: LlmPurpose;
  taskId: string;
  /** Code iteration (purpose `code`), 1-based. */
  iteration?: number;
  /** 0 for the first answer, 1 for the repair round-trip after invalid output. */
  repairRound?: number;
  messages: ChatMessage[];
  /** Ask for a JSON object (OpenAI `response_format: {type: 'json_object'}`). */
  json?: boolean;
  temperature?: number;
  maxTokens?: number;
  /** Aborting cancels the HTTP request. */
  signal?: AbortSignal;
  /** Called while waiting (activities heartbeat here). */
  onProgress?: () => void;
}

export interface ChatResponse {
  content: string;
  usage: TokenUsage;
  model: string;
}

export interface LlmClient {
  chat(request: ChatRequest): Promise<ChatResponse>;
  /**
   * Set when the client's configuration cannot work: every call would fail with this error. The
   * task's first activity checks it, so a task fails before any other work instead of at its
   * first model call.
   */
  readonly unusable?: Error;
}
