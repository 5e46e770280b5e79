/**
 * Tool calls in plain text, for models or endpoints without native tool calling
 * (`ADO_CODER_TOOL_PROTOCOL=text`): the model writes each call as a JSON object between
 * `<tool_call>` and `</tool_call>` lines, and tool results come back as user messages.
 */
import type { RawToolCall } from '../domain/agent-tools';

const CALL = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g;

/** How the model is told to call tools, for the system prompt. */
export const TEXT_PROTOCOL_INSTRUCTIONS = [
  'To call a tool, write its name and arguments as one JSON object between <tool_call> and </tool_call> lines:',
  '<tool_call>',
  '{"name": "view", "arguments": {"path": "src/index.ts"}}',
  '</tool_call>',
  'You may call several tools in one answer; their results come back in the next message, in order.',
].join('\n');

/**
 * The calls in `text`, with ids assigned in order (`<prefix>_1`, …). A block that is not a JSON
 * object with a name becomes a call without a name, which the agent answers with a format error.
 */
export function parseTextToolCalls(text: string, idPrefix: string): RawToolCall[] {
  const calls: RawToolCall[] = [];
  for (const match of text.matchAll(CALL)) {
    const id = `${idPrefix}_${calls.length + 1}`;
    const body = match[1] ?? '';
    try {
      const parsed = JSON.parse(body) as { name?: unknown; arguments?: unknown };
      const name = typeof parsed.name === 'string' ? parsed.name : '';
      const args = typeof parsed.arguments === 'string' ? parsed.arguments : JSON.stringify(parsed.arguments ?? {});
      calls.push({ id, name, arguments: args });
    } catch {
      // Kept as a call, so the model is told what was wrong with it.
      calls.push({ id, name: '', arguments: body });
    }
  }
  return calls;
}

/** The calls written as the model would write them (the scripted provider answers text-protocol requests so). */
export function formatTextToolCalls(calls: readonly RawToolCall[]): string {
  return calls
    .map((call) => {
      let args: unknown = call.arguments;
      try {
        args = JSON.parse(call.arguments);
      } catch {
        // Not JSON: sent as the text it is.
      }
      return `<tool_call>\n${JSON.stringify({ name: call.name, arguments: args })}\n</tool_call>`;
    })
    .join('\n');
}
