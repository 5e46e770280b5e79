import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { condensationCut, condensationPrompt, condensed, conversationTokens, elideObservations, messageTokens, needsCondensation, type SessionMessage } from './conversation';

const big = (n: number) => `first line of ${n}\n${Array.from({ length: 100 }, (_, i) => `const v${i} = ${i * 7};`).join('\n')}`;

/** system, task, then `turns` assistant calls each answered by one tool result. */
function session(turns: number): SessionMessage[] {
  const messages: SessionMessage[] = [
    { role: 'system', content: 'You are a coder.' },
    { role: 'user', content: 'Task: fix it.' },
  ];
  for (let i = 1; i <= turns; i++) {
    messages.push({ role: 'assistant', content: '', toolCalls: [{ id: `c${i}`, name: 'view', arguments: `{"path":"f${i}.ts"}` }] });
    messages.push({ role: 'tool', toolCallId: `c${i}`, content: big(i), observationOf: i, ref: `obs-${i}` });
  }
  return messages;
}

describe('conversation', () => {
  it('counts tokens with the tokenizer, tool calls included', () => {
    const message = { role: 'assistant' as const, content: 'hello world', toolCalls: [{ id: 'a', name: 'view', arguments: '{"path":"x"}' }] };
    expect(messageTokens(message)).toBe(4 + countTokens('hello world') + countTokens('view') + countTokens('{"path":"x"}') + 3);
    expect(conversationTokens([message, message])).toBe(2 * messageTokens(message));
  });

  it('elides all but the newest observations into stubs that name the step and the stored copy', () => {
    const elided = elideObservations(session(8), { keepRecent: 3 });
    const stubs = elided.filter((m) => m.elided);
    expect(stubs.map((m) => m.observationOf)).toEqual([1, 2, 3, 4, 5]);
    expect(stubs[0]!.content).toBe(`[output of step 1 elided (${big(1).length} characters, began: "first line of 1"); stored as obs-1; run the tool again if you need it]`);
    expect(elided.filter((m) => m.observationOf && !m.elided).map((m) => m.content)).toEqual([big(6), big(7), big(8)]);
    expect(elided.filter((m) => m.role === 'tool')).toHaveLength(8);
    expect(conversationTokens(elided)).toBeLessThan(conversationTokens(session(8)) / 2);
  });

  it('condenses the middle when near the window, keeping the task and the newest turns with their results', () => {
    const messages = session(10);
    expect(needsCondensation(messages, 1_000_000)).toBe(false);
    expect(needsCondensation(messages, 2000)).toBe(true);
    const cut = condensationCut(messages, 2, 3)!;
    expect(cut.head).toEqual(messages.slice(0, 2));
    expect(cut.tail[0]).toMatchObject({ role: 'assistant', toolCalls: [{ id: 'c8' }] });
    expect(cut.tail).toHaveLength(6);
    expect(cut.middle).toHaveLength(14);
    const prompt = condensationPrompt(cut.middle);
    expect(prompt[0]!.content).toContain('COMPLETED');
    expect(prompt[1]!.content).toContain('## result of step 7');
    const after = condensed(cut, 'COMPLETED: viewed f1-f7');
    expect(after).toHaveLength(2 + 1 + 6);
    expect(after[2]).toEqual({ role: 'user', content: 'Summary of the session so far (earlier messages were condensed):\nCOMPLETED: viewed f1-f7' });
    // Every tool result still follows the assistant call it answers.
    for (const [i, m] of after.entries()) if (m.role === 'tool') expect(after[i - 1]!.toolCalls?.[0]?.id).toBe(m.toolCallId);
  });

  it('has nothing to condense in a short session', () => {
    expect(condensationCut(session(2), 2, 3)).toBeUndefined();
  });
});
