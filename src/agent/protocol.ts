/**
 * The model side of a session turn: the chat request for the conversation so far, and the tool
 * calls read back from the answer, over native tool calling or the text protocol
 * (`ADO_CODER_TOOL_PROTOCOL`). A turn without a usable call gets format-error observations; the
 * session workflow fails with `MalformedToolCalls` after three such turns in a row.
 */
import { AGENT_TOOL_NAMES, agentToolSpecs, parseToolCall, type ParsedToolCall, type RawToolCall } from '../domain/agent-tools';
import { TEXT_PROTOCOL_INSTRUCTIONS, parseTextToolCalls } from '../llm/text-tool-protocol';
import type { ChatMessage, ChatRequest, ChatResponse } from '../llm/types';
import type { ToolProtocol } from './config';
import type { SessionMessage } from './conversation';

export interface TurnIdentity {
  taskId: string;
  iteration: number;
  turn: number;
}

/** The request for the next model turn. */
export function turnRequest(id: TurnIdentity, messages: readonly SessionMessage[], protocol: ToolProtocol): ChatRequest {
  const base = { role: 'coder' as const, purpose: 'agent' as const, taskId: id.taskId, iteration: id.iteration, turn: id.turn };
  if (protocol === 'native') return { ...base, tools: agentToolSpecs(), messages: messages.map(plain) };
  return { ...base, messages: textProtocolMessages(messages) };
}

/** The answer as the assistant message the conversation keeps. */
export function assistantMessage(response: ChatResponse, protocol: ToolProtocol, id: TurnIdentity): SessionMessage {
  const toolCalls = protocol === 'native' ? (response.toolCalls ?? []) : parseTextToolCalls(response.content, callIdPrefix(id));
  return { role: 'assistant', content: response.content, ...(toolCalls.length ? { toolCalls } : {}) };
}

/** The calls of an assistant message, each checked against its tool's schema; a turn without calls is one malformed call. */
export function parseCalls(message: SessionMessage, id: TurnIdentity): ParsedToolCall[] {
  const calls: RawToolCall[] = message.toolCalls ?? [];
  if (calls.length === 0) {
    return [
      {
        ok: false,
        id: `${callIdPrefix(id)}_none`,
        error: `Your answer called no tool. Work only through tool calls (${AGENT_TOOL_NAMES.join(', ')}); call finish when the task is done.`,
      },
    ];
  }
  return calls.map(parseToolCall);
}

/** The message that carries one call's observation back to the model. */
export function observationMessage(callId: string, step: number, text: string, protocol: ToolProtocol, ref?: string): SessionMessage {
  const extra = { observationOf: step, ...(ref === undefined ? {} : { ref }) };
  if (protocol === 'native') return { role: 'tool', toolCallId: callId, content: text, ...extra };
  return { role: 'user', content: `<tool_result id="${callId}">\n${text}\n</tool_result>`, ...extra };
}

function callIdPrefix(id: TurnIdentity): string {
  return `call_${id.iteration}_${id.turn}`;
}

/** Only the fields the client sends. */
function plain(message: SessionMessage): ChatMessage {
  return {
    role: message.role,
    content: message.content,
    ...(message.toolCalls ? { toolCalls: message.toolCalls } : {}),
    ...(message.toolCallId ? { toolCallId: message.toolCallId } : {}),
  };
}

/** Without native tools: the tools described in the system prompt, results as user messages, calls as the text the model wrote. */
function textProtocolMessages(messages: readonly SessionMessage[]): ChatMessage[] {
  const tools = agentToolSpecs()
    .map((t) => `- ${t.function.name}: ${t.function.description}\n  arguments (JSON schema): ${JSON.stringify(t.function.parameters)}`)
    .join('\n');
  return messages.map((m, index) => {
    if (index === 0 && m.role === 'system') return { role: 'system', content: `${m.content}\n\nTools:\n${tools}\n\n${TEXT_PROTOCOL_INSTRUCTIONS}` };
    if (m.role === 'tool') return { role: 'user', content: `<tool_result id="${m.toolCallId ?? ''}">\n${m.content}\n</tool_result>` };
    return { role: m.role, content: m.content };
  });
}
