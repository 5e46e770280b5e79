/**
 * Human decisions inside a coding session, on ADO's real parts with the model at a loopback
 * OpenAI-compatible server that records every prompt: the task's budget is checked before every
 * model turn, and a reached one pauses the session mid-way at the `budget` checkpoint; an
 * extension lets the same session go on. A comment given with an approval (plan, budget, stuck)
 * is in the next prompt the model gets.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalDecision } from '../../src/domain/task';
import { OpenAiCompatibleClient } from '../../src/llm/openai-compatible';
import { decideUpdate } from '../../src/workflows/messages';
import { completion, sendJson, startChatServer, toolCallsCompletion, type ChatServer } from '../llm/chat-server';
import { useRealTaskStack } from '../helpers/real-stack';
import { createRepository, realActivities } from '../helpers/real-task';
import { withWorkers } from '../helpers/temporal';
import { pendingApproval, startTask, stateOf, taskInput, waitFor, type TaskHandle } from '../helpers/workflow';

const stack = useRealTaskStack();

interface AgentRequest {
  messages: { role: string; content: string | null }[];
}

/** The model's tool call for each agent turn, in the order they are asked (two sessions). */
const CALLS = [
  // Session 1: two turns, then the budget is reached.
  { name: 'view', arguments: { path: 'src/sum.js' } },
  { name: 'view', arguments: { path: 'test.js' } },
  // Resumed after the extension: the same view four times, a stuck rule.
  ...Array.from({ length: 4 }, () => ({ name: 'view', arguments: { path: 'README.md' } })),
  // Session 2 (iteration 2), after the stuck checkpoint.
  { name: 'str_replace', arguments: { path: 'src/sum.js', old_str: 'return a - b;', new_str: 'return a + b;' } },
  { name: 'finish', arguments: { summary: 'sum adds' } },
];

let model: ChatServer;
/** Every agent-turn request the model server got, in arrival order. */
const asked: AgentRequest[] = [];

beforeAll(async () => {
  model = await startChatServer((request, res) => {
    const body = request.body as unknown as AgentRequest & { tools?: unknown[]; response_format?: unknown };
    if (!body.tools) {
      const answer = body.response_format ? JSON.stringify({ subtasks: [{ id: '1', title: 'Fix sum', description: 'sum must add' }] }) : '1. Fix sum.';
      sendJson(res, 200, completion(answer));
      return;
    }
    asked.push(body);
    const call = CALLS[asked.length - 1];
    if (!call) {
      sendJson(res, 400, { error: { message: `no scripted turn ${asked.length}` } });
      return;
    }
    sendJson(res, 200, toolCallsCompletion([{ id: `call_${asked.length}`, ...call }]));
  });
});
afterAll(() => model?.close());

/** The last message of a prompt, and how many model answers it carries. */
function lastMessage(request: AgentRequest): string {
  return request.messages.at(-1)?.content ?? '';
}
function answersIn(request: AgentRequest): number {
  return request.messages.filter((m) => m.role === 'assistant').length;
}

async function decide(handle: TaskHandle, decision: ApprovalDecision): Promise<void> {
  await pendingApproval(handle, decision.checkpoint!, 60_000);
  await handle.executeUpdate(decideUpdate, { args: [decision] });
}

describe('human decisions in a coding session', () => {
  it('the budget pauses a session before a model turn and an extension resumes it; each approval comment is in the next prompt', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'guided'), {
      '.ado.yml': 'gates:\n  test: node test.js\n',
      'README.md': '# calc\n',
      'src/sum.js': 'function sum(a, b) {\n  return a - b;\n}\nmodule.exports = { sum };\n',
      'test.js': "require('node:assert').strictEqual(require('./src/sum').sum(2, 3), 5);\n",
    });
    const endpoint = { baseUrl: model.url, apiKey: '', model: 'loopback' };
    const llm = new OpenAiCompatibleClient({ endpoints: { planner: endpoint, coder: endpoint }, maxRetries: 0 });
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'guided', llm), async ({ queues }) => {
      // Each model call reports 17 tokens: plan and subtasks 34, two agent turns 68.
      const handle = await startTask(
        stack.env().client,
        queues.task,
        taskInput({ repository, coder: 'agent', hitlEnabled: true, maxIterations: 2, budget: { maxTotalTokens: 68 } }),
      );
      await decide(handle, { approved: true, checkpoint: 'plan', comment: 'Keep the exported names' });

      const budget = await pendingApproval(handle, 'budget', 120_000);
      expect(budget.context).toContain('tokens 68 of 68');
      // Mid-session: two turns asked, the third waits for the decision.
      expect(asked).toHaveLength(2);
      expect((await stateOf(handle)).session?.steps.map((s) => s.argument)).toEqual(['src/sum.js', 'test.js']);
      await decide(handle, { approved: true, checkpoint: 'budget', budget: { maxTotalTokens: 100_000 }, comment: 'Stop reading, fix the subtraction' });

      await decide(handle, { approved: true, checkpoint: 'stuck', comment: 'Edit src/sum.js directly' });
      await decide(handle, { approved: true, checkpoint: 'pr' });
      expect((await handle.result()).status).toBe('completed');
      await waitFor(async () => (asked.length === CALLS.length ? true : undefined), 'every scripted turn');

      // The plan's comment opens the first session.
      expect(answersIn(asked[0]!)).toBe(0);
      expect(lastMessage(asked[0]!)).toContain('A reviewer said: Keep the exported names');
      // The resumed session goes on with its conversation, the budget comment last.
      expect(answersIn(asked[2]!)).toBe(2);
      expect(lastMessage(asked[2]!)).toBe('A reviewer said: Stop reading, fix the subtraction');
      expect(asked.slice(3, 6).map(lastMessage).filter((m) => m.includes('Stop reading'))).toEqual([]);
      // The stuck checkpoint's comment opens the next iteration's session.
      expect(answersIn(asked[6]!)).toBe(0);
      expect(lastMessage(asked[6]!)).toContain('A reviewer said: Edit src/sum.js directly');

      const state = await stateOf(handle);
      expect(state.session?.steps.map((s) => `${s.tool}:${s.outcome}`)).toEqual(['str_replace:ok', 'finish:ok']);
      expect(state.budget).toEqual({ maxTotalTokens: 100_000 });
      // 2 planning calls and 8 agent turns, each counted once in the task's usage.
      expect(state.usage.totalTokens).toBe(17 * 10);
    });
  });
});
