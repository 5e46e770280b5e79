/**
 * The agent coder's promise, for real: the worker process is SIGKILLed in the middle of a coding
 * session (during its third tool call, a command still running in the sandbox) and a new worker
 * finishes the task. Every model turn reached the model exactly once, counted at a loopback
 * OpenAI-compatible server, not in memory.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADO_SEARCH_ATTRIBUTES } from '../src/domain/search-attributes';
import { taskQueues } from '../src/domain/task';
import { locateBinary, TEMPORAL_CLI } from '../src/temporal/binaries';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { freePort } from '../src/temporal/ports';
import { completion, sendJson, startChatServer, toolCallsCompletion, type ChatServer } from './llm/chat-server';
import { startTsProcess, type TestProcess } from './helpers/processes';
import { createRepository } from './helpers/real-task';
import { uniqueTaskId } from './helpers/temporal';
import { startTask, stateOf, taskInput, waitFor } from './helpers/workflow';

const TURNS = [
  { name: 'search', arguments: { pattern: 'return a - b' } },
  { name: 'view', arguments: { path: 'src/sum.js' } },
  { name: 'run', arguments: { command: 'sleep 4; echo slow check done' } },
  { name: 'str_replace', arguments: { path: 'src/sum.js', old_str: 'return a - b;', new_str: 'return a + b;' } },
  { name: 'finish', arguments: { summary: 'sum adds' } },
];

let work: string;
let server: DevServer;
let client: Client;
let model: ChatServer;
/** The agent turn each model request was for (1-based), in arrival order. */
const turnsAsked: number[] = [];
const processes: TestProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ado-agent-crash-'));
  await chmod(work, 0o755);
  server = await startDevServer({ binary: await locateBinary(TEMPORAL_CLI), dbFile: path.join(work, 'temporal.db'), port: await freePort(), uiPort: false, namespace: 'default', searchAttributes: ADO_SEARCH_ATTRIBUTES });
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
  model = await startChatServer((request, res) => {
    const body = request.body as { tools?: unknown[]; messages: { role: string }[]; response_format?: unknown };
    if (!body.tools) {
      // Planner: the plan, then the subtasks as JSON.
      const answer = body.response_format ? JSON.stringify({ subtasks: [{ id: '1', title: 'Fix sum', description: 'sum must add' }] }) : '1. Fix sum.';
      sendJson(res, 200, completion(answer));
      return;
    }
    const turn = body.messages.filter((m) => m.role === 'assistant').length + 1;
    turnsAsked.push(turn);
    const call = TURNS[turn - 1]!;
    sendJson(res, 200, toolCallsCompletion([{ id: `call_${turn}`, ...call }]));
  });
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await model?.close();
  await client?.connection.close();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

async function worker(prefix: string): Promise<TestProcess> {
  const p = await startTsProcess('test/fixtures/agent-worker.ts', { TEMPORAL_ADDRESS: server.address, ADO_TASK_QUEUE_PREFIX: prefix, AGENT_WORK: work, MODEL_URL: model.url });
  processes.push(p);
  return p;
}

describe('agent coder crash safety', () => {
  it('a worker killed mid-session: a new worker finishes it, and no model turn was asked twice', async () => {
    const repository = await createRepository(path.join(work, 'repos', 'calc'), {
      '.ado.yml': 'gates:\n  test: node test.js\n',
      'src/sum.js': 'function sum(a, b) {\n  return a - b;\n}\nmodule.exports = { sum };\n',
      'test.js': "require('node:assert').strictEqual(require('./src/sum').sum(2, 3), 5);\n",
    });
    const prefix = `${uniqueTaskId('agent-crash')}-`;
    const first = await worker(prefix);
    const handle = await startTask(client, taskQueues(prefix).task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
    // Turn 3 answered: its `run` (four seconds in the sandbox) is under way when the worker dies.
    await waitFor(async () => (turnsAsked.includes(3) ? true : undefined), 'the third model turn', 120_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await first.kill();

    await worker(prefix);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(turnsAsked).toEqual([1, 2, 3, 4, 5]);
    const state = await stateOf(handle);
    expect(state.session?.steps.map((s) => `${s.tool}:${s.outcome}`)).toEqual(['search:ok', 'view:ok', 'run:ok', 'str_replace:ok', 'finish:ok']);
    // The interrupted call ran again on a workspace acquired anew, on the surviving worker.
    const session = await client.workflow.getHandle(state.session!.workflowId).fetchHistory();
    expect(session.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'acquireWorkspace')).toHaveLength(2);
  }, 300_000);
});
