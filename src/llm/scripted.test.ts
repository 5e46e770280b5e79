import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailureType, type AdoError } from '../domain/errors';
import { adoErrorOf } from '../../test/llm/ado-error';
import { readRequestLog, ScriptedLlmClient } from './scripted';
import type { ChatRequest } from './types';

const EXAMPLE = path.resolve(__dirname, '../../test/llm/fixtures/example-transcript.yml');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ado-scripted-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ask(overrides: Partial<ChatRequest>): ChatRequest {
  return { role: 'coder', purpose: 'code', taskId: 'task-1', messages: [{ role: 'user', content: 'go' }], ...overrides };
}

async function mismatch(promise: Promise<unknown>): Promise<AdoError> {
  const err = await adoErrorOf(promise);
  expect(err.nonRetryable).toBe(true);
  return err;
}

describe('ScriptedLlmClient', () => {
  it('answers by purpose, iteration and repair round, the same however often it is asked', async () => {
    const client = new ScriptedLlmClient({ transcriptPath: EXAMPLE });
    const plan = await client.chat(ask({ role: 'planner', purpose: 'plan' }));
    expect(plan.content).toContain('validateEmail');

    const second = ask({ iteration: 2, messages: [{ role: 'user', content: 'test failed: Expected TRUE to be false' }] });
    const repair = ask({ iteration: 1, repairRound: 1 });
    // Out of order and repeated, as retried and replayed activities ask.
    const answers = [await client.chat(second), await client.chat(repair), await client.chat(second), await client.chat(ask({ iteration: 1 }))];
    expect(answers.map((a) => a.content)).toEqual([
      expect.stringContaining('Fix the failing test'),
      expect.stringContaining('Add the validator'),
      expect.stringContaining('Fix the failing test'),
      'Sure! Here are the edits.',
    ]);
    // A new client (a restarted worker) gives the same answers.
    expect((await new ScriptedLlmClient({ transcriptPath: EXAMPLE }).chat(second)).content).toBe(answers[0]?.content);
  });

  it('reports the usage written in the transcript, or estimates it from the text', async () => {
    const client = new ScriptedLlmClient({ transcriptPath: EXAMPLE });
    const decompose = await client.chat(ask({ role: 'planner', purpose: 'decompose', messages: [{ role: 'user', content: '## Approved plan' }] }));
    expect(decompose.usage).toEqual({ promptTokens: 900, completionTokens: 60, totalTokens: 960, costUsd: 0.0004 });
    expect(decompose.model).toBe('scripted:example-transcript.yml');

    const long = ask({ role: 'planner', purpose: 'plan', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    const short = ask({ role: 'planner', purpose: 'plan', messages: [{ role: 'user', content: 'x' }] });
    const [a, b] = [await client.chat(long), await client.chat(short)];
    expect(a.usage.promptTokens).toBeGreaterThan(b.usage.promptTokens + 90);
    expect(a.usage.completionTokens).toBeGreaterThan(0);
    expect(a.usage.totalTokens).toBe(a.usage.promptTokens + a.usage.completionTokens);
  });

  it('fails with TranscriptMismatch naming file, purpose and iteration when the transcript runs out', async () => {
    const client = new ScriptedLlmClient({ transcriptPath: EXAMPLE });
    const err = await mismatch(client.chat(ask({ iteration: 3 })));
    expect(err.type).toBe(FailureType.TranscriptMismatch);
    expect(err.message).toContain(EXAMPLE);
    expect(err.message).toContain('purpose code, iteration 3');
    expect(err.message).toContain('ran out');

    const noRepair = await mismatch(client.chat(ask({ iteration: 2, repairRound: 1 })));
    expect(noRepair.message).toContain('iteration 2, repair round 1');
  });

  it('fails with TranscriptMismatch when the last user message does not contain what the entry expects', async () => {
    const client = new ScriptedLlmClient({ transcriptPath: EXAMPLE });
    const err = await mismatch(
      client.chat(ask({ role: 'planner', purpose: 'decompose', messages: [{ role: 'user', content: 'Here is a draft plan' }] })),
    );
    expect(err.type).toBe(FailureType.TranscriptMismatch);
    expect(err.message).toContain('Approved plan');
    expect(err.message).toContain('Here is a draft plan');

    const regex = await mismatch(client.chat(ask({ iteration: 2, messages: [{ role: 'user', content: 'all green' }] })));
    expect(regex.message).toContain('/expected (true|false)/i');
  });

  it('appends every answered request to the request log', async () => {
    const requestLogPath = path.join(dir, 'logs', 'requests.jsonl');
    const client = new ScriptedLlmClient({ transcriptPath: EXAMPLE, requestLogPath });
    await client.chat(ask({ role: 'planner', purpose: 'plan', taskId: 'task-9', messages: [{ role: 'system', content: 'architect' }, { role: 'user', content: 'Add validation' }] }));
    await client.chat(ask({ iteration: 1, repairRound: 1, json: true }));
    await mismatch(client.chat(ask({ iteration: 7 })));

    const lines = await readRequestLog(requestLogPath);
    expect(lines).toEqual([
      {
        taskId: 'task-9',
        purpose: 'plan',
        repairRound: 0,
        role: 'planner',
        json: false,
        messages: [
          { role: 'system', content: 'architect' },
          { role: 'user', content: 'Add validation' },
        ],
      },
      { taskId: 'task-1', purpose: 'code', iteration: 1, repairRound: 1, role: 'coder', json: true, messages: [{ role: 'user', content: 'go' }] },
    ]);
  });

  it('says what is wrong with a transcript that is missing or malformed', async () => {
    const missing = await mismatch(new ScriptedLlmClient({ transcriptPath: path.join(dir, 'nope.yml') }).chat(ask({ iteration: 1 })));
    expect(missing.type).toBe(FailureType.InvalidConfig);
    expect(missing.message).toContain('nope.yml');
    expect(missing.message).toContain('ENOENT');

    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'version: 2\ncode:\n  - content: 3\n  - { content: ok, expect: "/(/" }\n');
    const malformed = await mismatch(new ScriptedLlmClient({ transcriptPath: bad }).chat(ask({ iteration: 1 })));
    expect(malformed.type).toBe(FailureType.InvalidConfig);
    expect(malformed.message).toContain('version');
    expect(malformed.message).toContain('code.0');
    expect(malformed.message).toContain('code.1.expect');
  });

  it('rethrows the abort reason when the request is already cancelled', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(new ScriptedLlmClient({ transcriptPath: EXAMPLE }).chat(ask({ iteration: 1, signal: controller.signal }))).rejects.toBe(reason);
  });
});
