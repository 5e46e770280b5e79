/**
 * The LLM contract: chat completions against an OpenAI-compatible endpoint (LiteLLM proxy, OpenAI,
 * vLLM, Ollama) or the offline scripted provider that replays a transcript.
 */
import type { AgentToolSpec, RawToolCall } from '../domain/agent-tools';
import type { TokenUsage } from '../domain/task';

export type LlmRole = 'planner' | 'coder';

/**
 * What the call is for; the scripted provider finds its answer by it. `agent` is one turn of a
 * coding session, `condense` the summary that replaces the oldest part of its conversation.
 */
export type LlmPurpose = 'plan' | 'decompose' | 'code' | 'agent' | 'condense';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** An assistant message's tool calls (native tool calling). */
  toolCalls?: RawToolCall[];
  /** A `tool` message answers the call with this id. */
  toolCallId?: string;
}

export interface ChatRequest {
  role: LlmRole;
  purpose: LlmPurpose;
  taskId: string;
  /** Code iteration (purpose `code`), 1-based. */
  iteration?: number;
  /** 0 for the first answer, 1 for the repair round-trip after invalid output. */
  repairRound?: number;
  /** Purposes `agent` and `condense`: the session's model turn, 1-based within the iteration. */
  turn?: number;
  /** Native tool calling: the tools the model may call (OpenAI `tools`). */
  tools?: AgentToolSpec[];
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
  /** The tool calls of the answer (native tool calling); absent or empty when it has none. */
  toolCalls?: RawToolCall[];
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
