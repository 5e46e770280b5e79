import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentToolSpecs } from '../domain/agent-tools';
import { FailureType } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { RecordingLlmClient } from './recording';
import { ScriptedLlmClient } from './scripted';
import { parseTextToolCalls } from './text-tool-protocol';
import { readTranscript } from './transcript';
import type { ChatRequest, ChatResponse, LlmClient } from './types';

const TRANSCRIPT = `
version: 1
agent:
  - - tool_calls: [{ name: search, arguments: { pattern: validateEmail } }]
    - content: Found it.
      expect: src/signup.ts
      condense: 'COMPLETED: searched'
      tool_calls:
        - { name: view, arguments: { path: src/signup.ts } }
        - { name: view, arguments: '{"path": broken' }
`;
let dir: string;
let transcript: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ado-scripted-agent-'));
  transcript = path.join(dir, 'agent.yml');
  await writeFile(transcript, TRANSCRIPT);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const turn = (turnNo: number, overrides: Partial<ChatRequest> = {}): ChatRequest => ({
  role: 'coder',
  purpose: 'agent',
  taskId: 't',
  iteration: 1,
  turn: turnNo,
  tools: agentToolSpecs(),
  messages: [{ role: 'user', content: 'search result: src/signup.ts' }],
  ...overrides,
});

describe('scripted coding sessions', () => {
  it('answers each turn of an iteration with its tool calls, ids derived from iteration and turn', async () => {
    const client = new ScriptedLlmClient({ transcriptPath: transcript });
    const first = await client.chat(turn(1));
    expect(first.toolCalls).toEqual([{ id: 'call_1_1_1', name: 'search', arguments: '{"pattern":"validateEmail"}' }]);
    const second = await client.chat(turn(2));
    expect(second.content).toBe('Found it.');
    expect(second.toolCalls).toEqual([
      { id: 'call_1_2_1', name: 'view', arguments: '{"path":"src/signup.ts"}' },
      { id: 'call_1_2_2', name: 'view', arguments: '{"path": broken' },
    ]);
    expect((await client.chat(turn(2, { purpose: 'condense', tools: undefined }))).content).toBe('COMPLETED: searched');
  });

  it('writes the calls in the text protocol when the request offers no tools', async () => {
    const answer = await new ScriptedLlmClient({ transcriptPath: transcript }).chat(turn(1, { tools: undefined }));
    expect(answer.toolCalls).toBeUndefined();
    expect(parseTextToolCalls(answer.content, 'x')).toEqual([{ id: 'x_1', name: 'search', arguments: '{"pattern":"validateEmail"}' }]);
  });

  it('fails with TranscriptMismatch naming the turn when the session runs past the transcript', async () => {
    const err = await adoErrorOf(new ScriptedLlmClient({ transcriptPath: transcript }).chat(turn(3)));
    expect(err.type).toBe(FailureType.TranscriptMismatch);
    expect(err.message).toContain('purpose agent, iteration 1, turn 3');
  });

  it('records a tool-calling session into the agent section, replayable as it was', async () => {
    const answers: ChatResponse[] = [
      { content: '', usage: { promptTokens: 10, completionTokens: 2, totalTokens: 12 }, model: 'm', toolCalls: [{ id: 'real_1', name: 'find_files', arguments: '{"glob":"*.ts"}' }] },
      { content: 'Summary: nothing yet', usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8 }, model: 'm' },
    ];
    const inner: LlmClient = { chat: () => Promise.resolve(answers.shift()!) };
    const recorded = path.join(dir, 'recorded.yml');
    const recorder = new RecordingLlmClient(inner, recorded);
    await recorder.chat(turn(1, { iteration: 2 }));
    await recorder.chat(turn(1, { iteration: 2, purpose: 'condense' }));
    expect((await readTranscript(recorded)).agent).toEqual([
      null,
      [{ condense: 'Summary: nothing yet', tool_calls: [{ name: 'find_files', arguments: { glob: '*.ts' } }], usage: { promptTokens: 10, completionTokens: 2 } }],
    ]);
    const replayed = await new ScriptedLlmClient({ transcriptPath: recorded }).chat(turn(1, { iteration: 2 }));
    expect(replayed.toolCalls).toEqual([{ id: 'call_2_1_1', name: 'find_files', arguments: '{"glob":"*.ts"}' }]);
  });
});
