/**
 * Token usage where no endpoint counts it: the scripted provider, and endpoints that omit `usage`.
 */
import type { TokenUsage } from '../domain/task';
import type { ChatMessage } from './types';

/** About four characters per token for English text and code (OpenAI's rule of thumb). */
const CHARS_PER_TOKEN = 4;
/** Per-message overhead of the chat format (role and separators). */
const TOKENS_PER_MESSAGE = 4;

/** A plausible token count for `text`; not exact, but proportional, which is what budgets need. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Estimated usage of one chat call: the prompt messages in, `completion` out. */
export function estimateUsage(messages: readonly ChatMessage[], completion: string): TokenUsage {
  const promptTokens = messages.reduce((sum, m) => sum + TOKENS_PER_MESSAGE + estimateTokens(m.content), 0);
  const completionTokens = estimateTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
