/**
 * A coding session's conversation and how it is kept within the model's context window. Token
 * counts come from a real tokenizer (gpt-tokenizer, o200k: exact for OpenAI's current models, a
 * close measure for others). Two measures, cheapest first:
 *
 * - elision: observations older than the last few are replaced by a one-line stub (the full text
 *   stays in the ADO store under its reference, so nothing is lost);
 * - condensation: when the conversation still nears the window, the oldest turns are replaced by
 *   a structured summary the model writes (a separate model call: the `condenseConversation`
 *   activity, which the session workflow schedules when a turn reports the conversation full).
 *
 * Cuts never separate an assistant message from the tool results that answer it: the OpenAI API
 * refuses a tool result without its call.
 */
import { countTokens } from 'gpt-tokenizer';
import { needsCondensing } from '../domain/agent-context';
import type { ChatMessage } from '../llm/types';

/** A message of the session, with what elision and condensation need to know about it. */
export interface SessionMessage extends ChatMessage {
  /** Set on the result of a tool call: the step it answers. */
  observationOf?: number;
  /** Where the full observation is stored (claim check), shown in its stub once elided. */
  ref?: string;
  elided?: boolean;
}

/** Chat-format overhead per message (role, separators), as OpenAI counts it. */
const TOKENS_PER_MESSAGE = 4;

export function messageTokens(message: ChatMessage): number {
  const calls = (message.toolCalls ?? []).reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.arguments) + 3, 0);
  return TOKENS_PER_MESSAGE + countTokens(message.content) + calls;
}

export function conversationTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + messageTokens(m), 0);
}

export interface ElisionOptions {
  /** The newest observations kept whole. @default 5 */
  keepRecent?: number;
  /** Observations shorter than this (in characters) are kept: a stub would save nothing. @default 400 */
  minChars?: number;
}

/** The conversation with all but the newest observations replaced by stubs. */
export function elideObservations(messages: readonly SessionMessage[], options: ElisionOptions = {}): SessionMessage[] {
  const keepRecent = options.keepRecent ?? 5;
  const minChars = options.minChars ?? 400;
  const observations = messages.filter((m) => m.observationOf !== undefined);
  const keep = new Set(observations.slice(-keepRecent));
  return messages.map((m) => {
    if (m.observationOf === undefined || keep.has(m) || m.elided || m.content.length < minChars) return m;
    const firstLine = m.content.split('\n', 1)[0]!.slice(0, 100);
    const where = m.ref ? `; stored as ${m.ref}` : '';
    return { ...m, elided: true, content: `[output of step ${m.observationOf} elided (${m.content.length} characters, began: ${JSON.stringify(firstLine)})${where}; run the tool again if you need it]` };
  });
}

/** Whether the conversation takes more than `CONDENSE_AT` of the context window. */
export function needsCondensation(messages: readonly ChatMessage[], contextWindow: number): boolean {
  return needsCondensing({ tokens: conversationTokens(messages), window: contextWindow });
}

/** A conversation cut for condensation: kept head, the part to summarise, kept tail. */
export interface CondensationCut {
  head: SessionMessage[];
  middle: SessionMessage[];
  tail: SessionMessage[];
}

/**
 * Keeps the system prompt and the task (the first `headCount` messages) and the newest
 * `keepRecentTurns` assistant turns with their results; the rest is to be summarised. Undefined
 * when there is nothing in between.
 */
export function condensationCut(messages: readonly SessionMessage[], headCount = 2, keepRecentTurns = 3): CondensationCut | undefined {
  const assistantAt = messages.flatMap((m, i) => (m.role === 'assistant' && i >= headCount ? [i] : []));
  const tailStart = assistantAt.at(-keepRecentTurns);
  if (tailStart === undefined || tailStart <= headCount) return undefined;
  return { head: messages.slice(0, headCount), middle: messages.slice(headCount, tailStart), tail: messages.slice(tailStart) };
}

/** The request for the summary of `middle`: what the condensation activity sends the model. */
export function condensationPrompt(middle: readonly SessionMessage[]): ChatMessage[] {
  const transcript = middle
    .map((m) => {
      const calls = (m.toolCalls ?? []).map((c) => `→ ${c.name} ${c.arguments}`).join('\n');
      const who = m.role === 'tool' || m.observationOf !== undefined ? `result of step ${m.observationOf ?? '?'}` : m.role;
      return `## ${who}\n${[m.content, calls].filter((part) => part !== '').join('\n')}`;
    })
    .join('\n\n');
  return [
    {
      role: 'system',
      content:
        'You summarise the earlier part of a coding session so that the session can go on without it. ' +
        'Answer with these sections, each a few short lines: COMPLETED (what was done, with file paths), ' +
        'PENDING (what is left), CODE_STATE (files changed and how, key names and signatures), ' +
        'TESTS (what was run and the last result, failing tests by name), NOTES (facts about the repository worth keeping).',
    },
    { role: 'user', content: `The part of the session to summarise:\n\n${transcript}` },
  ];
}

/** The conversation with the middle replaced by the model's summary. */
export function condensed(cut: CondensationCut, summary: string): SessionMessage[] {
  return [...cut.head, { role: 'user', content: `Summary of the session so far (earlier messages were condensed):\n${summary}` }, ...cut.tail];
}
