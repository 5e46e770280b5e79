import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { RecordingLlmClient } from './recording';
import { ScriptedLlmClient } from './scripted';
import { readTranscript } from './transcript';
import type { ChatRequest, ChatResponse, LlmClient } from './types';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ado-recording-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Answers with a text derived from the request, so every recorded answer is distinct. */
class EchoLlm implements LlmClient {
  calls = 0;
  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    const content = `${request.purpose}#${request.iteration ?? 0}.${request.repairRound ?? 0} call ${this.calls}\nsecond line`;
    return { content, model: 'echo', usage: { promptTokens: 100 + this.calls, completionTokens: 7, totalTokens: 107 + this.calls, costUsd: 0.001 } };
  }
}

function ask(overrides: Partial<ChatRequest>): ChatRequest {
  return { role: 'coder', purpose: 'code', taskId: 'task-1', messages: [{ role: 'user', content: 'go' }], ...overrides };
}

describe('RecordingLlmClient', () => {
  it('records a run into a transcript that the scripted provider replays with the same answers and usage', async () => {
    const file = path.join(dir, 'recorded', 'run.yml');
    const recorder = new RecordingLlmClient(new EchoLlm(), file);
    const requests = [
      ask({ role: 'planner', purpose: 'plan' }),
      ask({ role: 'planner', purpose: 'decompose' }),
      ask({ iteration: 1 }),
      ask({ iteration: 1, repairRound: 1 }),
      ask({ iteration: 2 }),
    ];
    const live: ChatResponse[] = [];
    for (const request of requests) live.push(await recorder.chat(request));

    const replay = new ScriptedLlmClient({ transcriptPath: file });
    for (const [i, request] of requests.entries()) {
      const replayed = await replay.chat(request);
      expect(replayed.content).toBe(live[i]?.content);
      expect(replayed.usage).toEqual(live[i]?.usage);
    }
  });

  it('keeps the last answer to a repeated request and marks skipped iterations as unrecorded', async () => {
    const file = path.join(dir, 'run.yml');
    const recorder = new RecordingLlmClient(new EchoLlm(), file);
    await recorder.chat(ask({ role: 'planner', purpose: 'plan' }));
    const retried = await recorder.chat(ask({ role: 'planner', purpose: 'plan' }));
    await recorder.chat(ask({ iteration: 3 }));

    const transcript = await readTranscript(file);
    expect(transcript.plan?.content).toBe(retried.content);
    expect(transcript.code.slice(0, 2)).toEqual([null, null]);
    const err = await adoErrorOf(new ScriptedLlmClient({ transcriptPath: file }).chat(ask({ iteration: 1 })));
    expect(err.type).toBe(FailureType.TranscriptMismatch);
    expect(await readFile(file, 'utf8')).toContain('version: 1');
  });

  it('records concurrent calls without losing any', async () => {
    const file = path.join(dir, 'run.yml');
    const recorder = new RecordingLlmClient(new EchoLlm(), file);
    await Promise.all([1, 2, 3, 4, 5].map((iteration) => recorder.chat(ask({ iteration }))));
    const transcript = await readTranscript(file);
    expect(transcript.code.map((entry) => entry?.content.split(' ')[0])).toEqual(['code#1.0', 'code#2.0', 'code#3.0', 'code#4.0', 'code#5.0']);
  });
});
