/**
 * Context management on ADO's real parts, with the model at a loopback OpenAI-compatible server
 * that records every request: a session whose conversation grows past the share of the model's
 * context window at which it is condensed gets one `condenseConversation` activity, which asks
 * the model for a summary once; the next turn's prompt carries that summary instead of the older
 * turns, and the session goes on to finish.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationTokens, type SessionMessage } from '../../src/agent/conversation';
import { CONDENSE_AT } from '../../src/domain/agent-context';
import { OpenAiCompatibleClient } from '../../src/llm/openai-compatible';
import { completion, sendJson, startChatServer, toolCallsCompletion, type ChatServer } from '../llm/chat-server';
import { useRealTaskStack } from '../helpers/real-stack';
import { createRepository, realActivities } from '../helpers/real-task';
import { withWorkers } from '../helpers/temporal';
import { startTask, stateOf, taskInput } from '../helpers/workflow';

const stack = useRealTaskStack();

interface ModelRequest {
  messages: { role: string; content: string | null }[];
  tools?: unknown[];
  response_format?: unknown;
}

/** Three files of 40 lines, each about a thousand tokens once viewed. */
const FILES = Object.fromEntries(
  [1, 2, 3].map((f) => [`src/part${f}.js`, Array.from({ length: 40 }, (_, n) => `export const value_${f}_${n} = 'part ${f} line ${n}: lorem ipsum dolor sit amet';\n`).join('')]),
);
const TURNS = [
  ...Object.keys(FILES).map((file) => ({ name: 'view', arguments: { path: file } })),
  { name: 'create', arguments: { path: 'NOTES.md', file_text: 'Every part exports constants.\n' } },
  { name: 'finish', arguments: { summary: 'read every part' } },
];
const SUMMARY = 'COMPLETED: viewed src/part1.js. PENDING: view the other parts. CODE_STATE: unchanged. TESTS: none run. NOTES: parts export constants.';
/**
 * The coder model's context window: each view adds about a thousand tokens, so the conversation
 * passes `CONDENSE_AT` of it after the fourth turn (the first with an older turn to summarise
 * besides the newest three), and the fifth turn finishes.
 */
const WINDOW = 4000;

let model: ChatServer;
const agentTurns: ModelRequest[] = [];
const condensations: ModelRequest[] = [];

beforeAll(async () => {
  model = await startChatServer((request, res) => {
    const body = request.body as unknown as ModelRequest;
    if (body.tools) {
      agentTurns.push(body);
      const call = TURNS[agentTurns.length - 1];
      if (!call) return sendJson(res, 400, { error: { message: `no scripted turn ${agentTurns.length}` } });
      return sendJson(res, 200, toolCallsCompletion([{ id: `call_${agentTurns.length}`, ...call }]));
    }
    if (body.messages[0]?.content?.startsWith('You summarise')) {
      condensations.push(body);
      return sendJson(res, 200, completion(SUMMARY));
    }
    // Planner: the plan, then the subtasks as JSON.
    const answer = body.response_format ? JSON.stringify({ subtasks: [{ id: '1', title: 'Read', description: 'read every part' }] }) : '1. Read every part.';
    return sendJson(res, 200, completion(answer));
  });
});
afterAll(() => model?.close());

describe('a coding session near the context window', () => {
  it('is condensed once by its own activity, and the next turn continues from the summary', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'parts'), { '.ado.yml': 'gates:\n  test: node -e "0"\n', ...FILES });
    const endpoint = { baseUrl: model.url, apiKey: '', model: 'loopback' };
    const llm = new OpenAiCompatibleClient({ endpoints: { planner: endpoint, coder: endpoint }, maxRetries: 0 });
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'parts', llm, {}, undefined, { contextWindow: WINDOW }), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      expect((await handle.result()).status).toBe('completed');
      const state = await stateOf(handle);
      expect(state.session?.steps.map((step) => `${step.tool}:${step.outcome}`)).toEqual(['view:ok', 'view:ok', 'view:ok', 'create:ok', 'finish:ok']);
      const sessionId = state.session!.workflowId;
      const store = stack.parts().store.agentBlobs;
      const tokensAfter = async (turn: number) => conversationTokens(JSON.parse((await store.get(`${sessionId}/conversation/${turn}`))!) as SessionMessage[]);
      // The sizes the test is built on: full after turn 4, not before.
      expect(await tokensAfter(3)).toBeLessThanOrEqual(WINDOW * CONDENSE_AT);
      expect(await tokensAfter(4)).toBeGreaterThan(WINDOW * CONDENSE_AT);

      // One condensation, asked of the model once, over the oldest turn (the view of part 1).
      expect(condensations).toHaveLength(1);
      expect(condensations[0]!.messages.at(-1)?.content).toContain("part 1 line 0: lorem ipsum");
      const session = await stack.env().client.workflow.getHandle(sessionId).fetchHistory();
      const scheduled = session.events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(scheduled.filter((name) => name === 'condenseConversation')).toHaveLength(1);
      expect(scheduled.indexOf('condenseConversation')).toBe(scheduled.lastIndexOf('agentTurn') - 1);
      expect(await store.get(`${sessionId}/summary/5`)).toBe(SUMMARY);

      // Every turn asked once; the fifth continues from the summary, without the view it replaced.
      expect(agentTurns).toHaveLength(TURNS.length);
      const prompt = (turn: number) => agentTurns[turn - 1]!.messages.map((m) => m.content ?? '').join('\n');
      expect(prompt(4)).toContain('part 1 line 0');
      expect(prompt(4)).not.toContain(SUMMARY);
      expect(prompt(5)).toContain(`Summary of the session so far (earlier messages were condensed):\n${SUMMARY}`);
      expect(prompt(5)).not.toContain('part 1 line 0');
      expect(prompt(5)).toContain('part 3 line 0');
      expect(agentTurns[4]!.messages.filter((m) => m.role === 'assistant')).toHaveLength(3);
    });
  }, 180_000);
});
