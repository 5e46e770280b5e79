/**
 * Chat Completions over HTTP against any OpenAI-compatible endpoint: a LiteLLM proxy (the standard
 * gateway), OpenAI, vLLM, Ollama. Node's own fetch rather than the `openai` package: we need the
 * raw response headers (LiteLLM's cost, Retry-After), our own retry classification feeding
 * Temporal's, and nothing more, so a dependency would add retries and types we would then disable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { TokenUsage } from '../domain/task';
import { storableText } from '../domain/task-input';
import type { ChatRequest, ChatResponse, LlmClient, LlmRole } from './types';
import { estimateUsage } from './usage';

/** Where one role's requests go. */
export interface LlmEndpoint {
  /** The client posts to `<baseUrl>/chat/completions` (LiteLLM: the proxy root; OpenAI: `…/v1`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; empty sends no Authorization header (local vLLM, Ollama). */
  apiKey: string;
  model: string;
}

/** What the client tells its owner before it waits and tries again. */
export interface RetryNotice {
  role: LlmRole;
  model: string;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  reason: string;
}

export interface OpenAiCompatibleOptions {
  endpoints: Record<LlmRole, LlmEndpoint>;
  /** Per HTTP attempt, until the whole answer is read. @default 180 s */
  timeoutMs?: number;
  /** Retries inside one `chat` call for 429, 5xx, timeouts and connection errors. @default 2 */
  maxRetries?: number;
  /** Longest Retry-After the client waits itself; longer ones go to Temporal's retry. @default 30 s */
  maxRetryWaitMs?: number;
  /** First backoff when the endpoint gives no Retry-After; doubles per retry. @default 1 s */
  backoffMs?: number;
  /** How often `request.onProgress` is called while waiting. @default 1 s */
  progressIntervalMs?: number;
  onRetry?: (notice: RetryNotice) => void;
}

/** A failure that another attempt may not have. */
class TransientFailure extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

const completionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(z.object({ id: z.string(), function: z.object({ name: z.string(), arguments: z.string().nullish() }) }))
            .nullish(),
        }),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      total_tokens: z.number().optional(),
      /** OpenRouter and some gateways report the cost here. */
      cost: z.number().optional(),
    })
    .nullish(),
});

/** Statuses another attempt may fix (OpenAI's SDK retries the same set). */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The OpenAI-compatible LLM client; one endpoint and model per role. */
export class OpenAiCompatibleClient implements LlmClient {
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffMs: number;
  private readonly progressIntervalMs: number;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.timeoutMs = options.timeoutMs ?? 180_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 30_000;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 1_000;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const endpoint = this.options.endpoints[request.role];
    const body = JSON.stringify({
      model: endpoint.model,
      messages: request.messages.map(toApiMessage),
      ...(request.tools?.length ? { tools: request.tools, tool_choice: 'auto' } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.json ? { response_format: { type: 'json_object' } } : {}),
    });
    const progress = request.onProgress ? setInterval(request.onProgress, this.progressIntervalMs) : undefined;
    try {
      for (let retry = 0; ; retry++) {
        try {
          return await this.attempt(endpoint, body, request);
        } catch (err) {
          if (!(err instanceof TransientFailure)) throw err;
          const waitItself = err.retryAfterMs === undefined || err.retryAfterMs <= this.maxRetryWaitMs;
          if (retry >= this.maxRetries || !waitItself) {
            throw new AdoError(
              FailureType.LlmUnavailable,
              `${endpointLabel(endpoint, request.role)}: ${err.message} (after ${retry + 1} attempt${retry ? 's' : ''}); will retry later.`,
              { cause: err, nextRetryDelayMs: err.retryAfterMs },
            );
          }
          const delayMs = err.retryAfterMs ?? this.backoffMs * 2 ** retry;
          this.options.onRetry?.({ role: request.role, model: endpoint.model, retry: retry + 1, delayMs, reason: err.message });
          await sleep(delayMs, undefined, { signal: request.signal }).catch((sleepErr: unknown) => {
            throw request.signal?.aborted ? cancellation(request.signal) : sleepErr;
          });
        }
      }
    } finally {
      clearInterval(progress);
    }
  }

  /** One HTTP round trip: the answer, a `TransientFailure`, or a non-retryable `AdoError`. */
  private async attempt(endpoint: LlmEndpoint, body: string, request: ChatRequest): Promise<ChatResponse> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers, body, signal });
      text = await response.text();
    } catch (err) {
      if (request.signal?.aborted) throw cancellation(request.signal);
      if (timeout.aborted) throw new TransientFailure(`no complete answer within ${this.timeoutMs} ms (ADO_LLM_TIMEOUT_MS)`, undefined, err);
      throw new TransientFailure(`connection failed (${networkCause(err)})`, undefined, err);
    }
    if (response.ok) return parseCompletion(text, response.headers, endpoint, request.role);
    const detail = redact(errorDetail(text), endpoint.apiKey);
    if (isRetryableStatus(response.status)) {
      throw new TransientFailure(`HTTP ${response.status}: ${detail}`, retryAfterMs(response.headers));
    }
    throw nonRetryable(
      FailureType.LlmRejected,
      `${endpointLabel(endpoint, request.role)} refused the request (HTTP ${response.status}): ${detail}. ${rejectionHint(response.status, request.role)}`,
      { details: [{ status: response.status, baseUrl: endpoint.baseUrl, model: endpoint.model, role: request.role }] },
    );
  }
}

function endpointLabel(endpoint: LlmEndpoint, role: LlmRole): string {
  return `LLM endpoint ${endpoint.baseUrl} (model "${endpoint.model}", ${role})`;
}

function rejectionHint(status: number, role: LlmRole): string {
  const r = role.toUpperCase();
  switch (status) {
    case 401:
      return `Check the API key (ADO_${r}_API_KEY or ADO_LLM_API_KEY).`;
    case 403:
      return `The key is not allowed to use this model: check the key's model access or the model name (ADO_${r}_MODEL or ADO_LLM_MODEL).`;
    case 404:
      return `Check the base URL (ADO_${r}_BASE_URL or ADO_LLM_BASE_URL; requests go to <base>/chat/completions) and the model name (ADO_${r}_MODEL or ADO_LLM_MODEL).`;
    default:
      // LiteLLM without a database refuses unknown keys with 400, so the key is a suspect here too.
      return `Check the model name (ADO_${r}_MODEL or ADO_LLM_MODEL), the API key (ADO_${r}_API_KEY or ADO_LLM_API_KEY) and that the model supports the request (JSON mode, max tokens).`;
  }
}

function parseCompletion(text: string, headers: Headers, endpoint: LlmEndpoint, role: LlmRole): ChatResponse {
  let parsed: z.ZodSafeParseResult<z.infer<typeof completionSchema>>;
  try {
    parsed = completionSchema.safeParse(JSON.parse(text));
  } catch (err) {
    throw notAChatCompletion(endpoint, role, `not JSON: ${text.slice(0, 120)}`, err);
  }
  if (!parsed.success) throw notAChatCompletion(endpoint, role, z.prettifyError(parsed.error), parsed.error);
  const data = parsed.data;
  const message = data.choices[0]?.message;
  const content = message?.content ?? '';
  if (!storableText.safeParse(content).success) {
    // Retryable: the next attempt asks again, and nothing unstorable reaches the store.
    throw new AdoError(FailureType.InvalidLlmOutput, `The ${role} model (${endpoint.model}) answered with text ADO cannot keep (a NUL byte or an unpaired surrogate)`);
  }
  const toolCalls = (message?.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' }));
  const usage: TokenUsage = data.usage
    ? {
        promptTokens: data.usage.prompt_tokens,
        completionTokens: data.usage.completion_tokens,
        totalTokens: data.usage.total_tokens ?? data.usage.prompt_tokens + data.usage.completion_tokens,
      }
    : estimateUsage([], content);
  const cost = costFromHeader(headers) ?? data.usage?.cost;
  if (cost !== undefined) usage.costUsd = cost;
  return { content, usage, model: data.model ?? endpoint.model, ...(toolCalls.length ? { toolCalls } : {}) };
}

/** A message in the API's shape: tool calls and tool results in OpenAI's field names. */
function toApiMessage(message: ChatRequest['messages'][number]): Record<string, unknown> {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  if (message.toolCalls?.length) {
    return {
      role: message.role,
      content: message.content === '' ? null : message.content,
      tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
    };
  }
  return { role: message.role, content: message.content };
}

function notAChatCompletion(endpoint: LlmEndpoint, role: LlmRole, what: string, cause: unknown): AdoError {
  return nonRetryable(
    FailureType.InvalidConfig,
    `${endpointLabel(endpoint, role)} answered with something that is not a chat completion (${what}). Check that ADO_LLM_BASE_URL points to an OpenAI-compatible API (the proxy root for LiteLLM, …/v1 for OpenAI).`,
    { cause },
  );
}

/** LiteLLM's proxy reports the cost of each call in this header. */
function costFromHeader(headers: Headers): number | undefined {
  const value = Number.parseFloat(headers.get('x-litellm-response-cost') ?? '');
  return Number.isFinite(value) ? value : undefined;
}

/** `retry-after-ms` (OpenAI), else `Retry-After` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The server's own explanation: OpenAI/LiteLLM `{error: {message}}`, Ollama `{error}`, FastAPI `{detail}`, or text. */
function errorDetail(text: string): string {
  let detail = text.trim();
  try {
    const data = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
    const candidate = typeof data.error === 'string' ? data.error : (data.error?.message ?? data.detail ?? data.message);
    if (candidate !== undefined) detail = typeof candidate === 'string' ? candidate : JSON.stringify(candidate);
  } catch {
    // Not JSON: keep the text.
  }
  detail = detail.replace(/\s+/g, ' ');
  return detail.length > 400 ? `${detail.slice(0, 400)}…` : detail || '(empty body)';
}

/** Some gateways echo the key in their error text; it must not reach logs or workflow history. */
function redact(text: string, apiKey: string): string {
  const withoutKey = apiKey ? text.split(apiKey).join('<redacted>') : text;
  return withoutKey.replace(/\bsk-[A-Za-z0-9_-]{4,}/g, 'sk-<redacted>');
}

/** undici reports "fetch failed" with the system error (ECONNREFUSED…) as its cause. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function cancellation(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The LLM request was cancelled.', 'AbortError');
}
