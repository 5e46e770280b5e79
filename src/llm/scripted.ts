/**
 * The offline LLM: replays a transcript file (format in transcript.ts). Each answer is found by
 * the request's purpose, iteration and repair round, never by counting calls, so a retried or
 * replayed activity, or a restarted worker, gets the same answer.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { TokenUsage } from '../domain/task';
import { describeRequest, expectMatches, readTranscript, replyFor, type ScriptedReply, type Transcript } from './transcript';
import type { ChatRequest, ChatResponse, LlmClient } from './types';
import { formatTextToolCalls } from './text-tool-protocol';
import { estimateUsage } from './usage';

export interface ScriptedLlmOptions {
  transcriptPath: string;
  /** When set, every answered request is appended here as one JSON line (see `ScriptedRequestLogLine`). */
  requestLogPath?: string;
}

/** One line of the request log: what the model was sent. */
export interface ScriptedRequestLogLine {
  taskId: string;
  purpose: ChatRequest['purpose'];
  iteration?: number;
  repairRound: number;
  role: ChatRequest['role'];
  json: boolean;
  messages: ChatRequest['messages'];
}

/** Replays a transcript; fails loudly (`TranscriptMismatch`) when it has no fitting answer. */
export class ScriptedLlmClient implements LlmClient {
  private transcript?: Promise<Transcript>;

  constructor(private readonly options: ScriptedLlmOptions) {}

  async chat(request: ChatRequest): Promise<ChatResponse> {
    if (request.signal?.aborted) throw request.signal.reason;
    const reply = replyFor(await this.load(), request);
    if (!reply) throw this.mismatch(request, 'has no answer for it (the transcript ran out)');
    const lastUser = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
    if (reply.expect !== undefined && !expectMatches(lastUser, reply.expect)) {
      throw this.mismatch(
        request,
        `expects the last user message to contain ${reply.expect}, but it reads: ${JSON.stringify(lastUser.slice(0, 300))}${lastUser.length > 300 ? '…' : ''}`,
      );
    }
    await this.log(request);
    return {
      ...scriptedAnswer(reply, request),
      usage: usageOf(reply, request),
      model: `scripted:${path.basename(this.options.transcriptPath)}`,
    };
  }

  /** Parsed once per client; a failed read is retried on the next call. */
  private load(): Promise<Transcript> {
    this.transcript ??= readTranscript(this.options.transcriptPath).catch((err: unknown) => {
      this.transcript = undefined;
      throw err;
    });
    return this.transcript;
  }

  private mismatch(request: ChatRequest, what: string): AdoError {
    return nonRetryable(
      FailureType.TranscriptMismatch,
      `The LLM transcript ${this.options.transcriptPath} ${what}: task ${request.taskId}, ${describeRequest(request)}. Extend the transcript, or record a new one with ADO_LLM_RECORD.`,
      { details: [{ transcript: this.options.transcriptPath, purpose: request.purpose, iteration: request.iteration, repairRound: request.repairRound ?? 0 }] },
    );
  }

  private async log(request: ChatRequest): Promise<void> {
    const file = this.options.requestLogPath;
    if (!file) return;
    const line: ScriptedRequestLogLine = {
      taskId: request.taskId,
      purpose: request.purpose,
      iteration: request.iteration,
      repairRound: request.repairRound ?? 0,
      role: request.role,
      json: request.json ?? false,
      messages: request.messages,
    };
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${JSON.stringify(line)}\n`);
  }
}

/** Tool calls go back natively when the request offers tools, else in the text protocol. */
function scriptedAnswer(reply: ScriptedReply, request: ChatRequest): Pick<ChatResponse, 'content' | 'toolCalls'> {
  if (!reply.toolCalls) return { content: reply.content };
  if (request.tools?.length) return { content: reply.content, toolCalls: reply.toolCalls };
  return { content: [reply.content, formatTextToolCalls(reply.toolCalls)].filter((part) => part !== '').join('\n') };
}

function usageOf(reply: ScriptedReply, request: ChatRequest): TokenUsage {
  if (!reply.usage) return estimateUsage(request.messages, reply.content);
  const { promptTokens, completionTokens, costUsd } = reply.usage;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, ...(costUsd === undefined ? {} : { costUsd }) };
}

/** Reads a request log written by `ScriptedLlmClient` (tests and `ado` diagnostics). */
export async function readRequestLog(file: string): Promise<ScriptedRequestLogLine[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ScriptedRequestLogLine);
}
