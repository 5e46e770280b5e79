/**
 * A reviewer asks for changes at the pull request, for real: a task on a Temporal dev server with
 * ADO's real activities (git, bubblewrap, PGlite, local pull requests) and the OpenAI-compatible
 * client against a loopback model server, decided through the HTTP API. `revise` sends the task
 * back to coding, the reviewer's comment is in the next code prompt the model server received,
 * the gates run again and a new `pr` checkpoint shows the revised head.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HITLHandler } from '../../src/client/hitl-handler';
import { TaskClient } from '../../src/client/task-client';
import { startApiServer, type RunningApi } from '../../src/api/server';
import { OpenAiCompatibleClient } from '../../src/llm/openai-compatible';
import { silentLogger } from '../../src/telemetry/logger';
import { git } from '../../src/workspace/git';
import { completion, sendJson, startChatServer, type ChatServer } from '../llm/chat-server';
import { codeAnswer, createRepository, realActivities } from '../helpers/real-task';
import { useRealTaskStack } from '../helpers/real-stack';
import { withWorkers } from '../helpers/temporal';
import { expectReplays, pendingApproval, startTask, stateOf, taskInput } from '../helpers/workflow';

const stack = useRealTaskStack();
const COMMENT = 'Also export a difference(a, b) function beside sum';

/** What the coder answers, iteration by iteration: first the fix, then the change the reviewer asked for. */
const CODE = [
  codeAnswer('sum adds', [{ type: 'replace', path: 'src/sum.js', search: 'return a - b;', replace: 'return a + b;' }]),
  codeAnswer('difference too', [
    { type: 'replace', path: 'src/sum.js', search: 'module.exports = { sum };', replace: 'function difference(a, b) {\n  return a - b;\n}\nmodule.exports = { sum, difference };' },
  ]),
];

interface Sent {
  kind: 'plan' | 'decompose' | 'code';
  user: string;
}

let model: ChatServer;
const sent: Sent[] = [];

beforeAll(async () => {
  model = await startChatServer((request, res) => {
    const messages = (request.body as { messages: Array<{ role: string; content: string }> }).messages;
    const system = messages[0]?.content ?? '';
    const kind: Sent['kind'] = system.includes('Split the approved plan') ? 'decompose' : system.includes('changing an existing repository') ? 'code' : 'plan';
    sent.push({ kind, user: messages.at(-1)?.content ?? '' });
    const codeTurn = sent.filter((s) => s.kind === 'code').length;
    const answer = {
      plan: '1. Make sum add.',
      decompose: JSON.stringify({ subtasks: [{ id: '1', title: 'Fix sum', description: 'sum must add' }] }),
      code: CODE[codeTurn - 1] ?? codeAnswer('nothing more', []),
    }[kind];
    sendJson(res, 200, completion(answer));
  });
});
afterAll(async () => {
  await model?.close();
});

describe('revise at the pull request', () => {
  it('sends the task back to coding with the comment in the next model prompt, then asks again at pr', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'calc'), {
      '.ado.yml': 'gates:\n  test: node test.js\n',
      'src/sum.js': 'function sum(a, b) {\n  return a - b;\n}\nmodule.exports = { sum };\n',
      'test.js': "require('node:assert').strictEqual(require('./src/sum').sum(2, 3), 5);\n",
    });
    const endpoint = { baseUrl: model.url, apiKey: '', model: 'loopback' };
    const llm = new OpenAiCompatibleClient({ endpoints: { planner: endpoint, coder: endpoint }, maxRetries: 0 });
    const activities = await realActivities(stack.parts(), 'revise', llm);
    await withWorkers(stack.env(), activities, async ({ queues, prefix }) => {
      const client = stack.env().client;
      let api: RunningApi | undefined;
      try {
        api = await startApiServer({
          tasks: new TaskClient(client, prefix),
          hitl: new HITLHandler(client),
          store: stack.parts().store,
          auth: { tokens: [] },
          logger: silentLogger(),
          host: '127.0.0.1',
          port: 0,
        });
        const decide = async (taskId: string, body: unknown) => {
          const res = await fetch(`${api!.url}/api/tasks/${taskId}/decision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };
        const handle = await startTask(client, queues.task, taskInput({ repository, hitlEnabled: true }));
        const taskId = handle.workflowId;
        await pendingApproval(handle, 'plan', 120_000);
        // At the plan, asking for changes is refused: only a pull request goes back to coding.
        expect(await decide(taskId, { approved: false, revise: true, comment: COMMENT })).toMatchObject({
          status: 409,
          body: { detail: expect.stringContaining('Only a pull request (checkpoint "pr") can be sent back for changes') },
        });
        expect((await decide(taskId, { approved: true })).status).toBe(200);

        const first = await pendingApproval(handle, 'pr', 120_000);
        // Without a comment there is nothing to tell the model: refused at the edge, the task still waits.
        expect(await decide(taskId, { approved: false, revise: true })).toMatchObject({
          status: 400,
          body: { detail: expect.stringContaining('needs a comment saying what to change') },
        });
        expect((await stateOf(handle)).pendingApproval?.id).toBe(first.id);
        expect(await decide(taskId, { approved: false, revise: true, checkpoint: 'pr', comment: COMMENT })).toMatchObject({
          status: 200,
          body: { checkpoint: 'pr', approved: false },
        });

        const second = await pendingApproval(handle, 'pr', 120_000);
        expect(second.id).not.toBe(first.id);
        expect((await decide(taskId, { approved: true, checkpoint: 'pr' })).status).toBe(200);
        const result = await handle.result();
        await expectReplays(handle);

        expect(sent.map((s) => s.kind)).toEqual(['plan', 'decompose', 'code', 'code']);
        const [firstCode, secondCode] = sent.filter((s) => s.kind === 'code');
        expect(firstCode!.user).not.toContain(COMMENT);
        expect(secondCode!.user).toContain(`A reviewer asked for changes to the pull request: ${COMMENT}`);
        expect(result).toMatchObject({ status: 'completed', iterations: 2, pullRequest: { merged: true } });
        const state = await stateOf(handle);
        expect(state.revisions).toBe(1);
        expect(state.phaseHistory.map((p) => p.phase)).toEqual(['planning', 'decomposing', 'coding', 'testing', 'review', 'coding', 'testing', 'review', 'completed']);
        // The merged pull request is the revised head: the gates ran on it, and main has both changes.
        expect(result.pullRequest.headSha).toBe(state.greenSha);
        const merged = await git(['show', `refs/heads/main:src/sum.js`], { cwd: state.remote! });
        expect(merged).toContain('return a + b;');
        expect(merged).toContain('module.exports = { sum, difference };');
      } finally {
        await api?.close();
      }
    });
  });
});
