/**
 * The agent coder on ADO's real parts: the task workflow and its coding session (a child workflow)
 * on a Temporal dev server, the real activities over a PGlite store, git, the bubblewrap sandbox,
 * and a scripted model replaying a tool-calling transcript. The model searches, makes a malformed
 * call, views, fails an edit, corrects it, runs the test, finishes; a second session makes
 * malformed calls only and fails with a typed error.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../../src/domain/errors';
import { git } from '../../src/workspace/git';
import { useRealTaskStack } from '../helpers/real-stack';
import { agentTranscript, createRepository, realActivities } from '../helpers/real-task';
import { withWorkers } from '../helpers/temporal';
import { failureOf, startTask, stateOf, taskInput } from '../helpers/workflow';

const stack = useRealTaskStack();

const REPO = {
  '.ado.yml': 'gates:\n  test: node test/sum.test.js\n',
  'src/math/sum.js': 'function sum(a, b) {\n  return a - b;\n}\nmodule.exports = { sum };\n',
  'src/math/product.js': 'function product(a, b) {\n  return a * b;\n}\nmodule.exports = { product };\n',
  'test/sum.test.js': "const assert = require('node:assert');\nconst { sum } = require('../src/math/sum');\nassert.strictEqual(sum(2, 3), 5);\nconsole.log('sum ok');\n",
  'README.md': '# calc\n',
};


describe('the agent coder', () => {
  it('searches, recovers from a malformed call and a failed edit, runs the test and finishes; the task opens its PR', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'calc'), REPO);
    const answers = agentTranscript([
      [{ name: 'search', arguments: { pattern: 'function sum' } }],
      [{ name: 'open_file', arguments: { path: 'src/math/sum.js' } }],
      [{ name: 'view', arguments: { path: 'src/math/sum.js' } }],
      [{ name: 'str_replace', arguments: { path: 'src/math/sum.js', old_str: 'return a-b;', new_str: 'return a + b;' } }],
      [{ name: 'str_replace', arguments: { path: 'src/math/sum.js', old_str: '  return a - b;', new_str: '  return a + b;' } }],
      [{ name: 'run', arguments: { command: 'node test/sum.test.js' } }],
      [{ name: 'finish', arguments: { summary: 'sum adds instead of subtracting' } }],
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'calc', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      const result = await handle.result();
      expect(result.status).toBe('completed');
      const state = await stateOf(handle);
      expect(state.session?.steps.map((s) => `${s.tool} ${s.argument} ${s.outcome}`)).toEqual([
        'search function sum ok',
        'view src/math/sum.js ok',
        'str_replace src/math/sum.js error',
        'str_replace src/math/sum.js ok',
        'run node test/sum.test.js ok',
        'finish  ok',
      ]);
      const fixed = await git(['show', `${state.greenSha}:src/math/sum.js`], { cwd: state.remote });
      expect(fixed).toContain('return a + b;');

      // What the model was told, from the stored conversation of the last turn.
      const conversation = JSON.parse((await stack.parts().store.agentBlobs.get(`${state.session!.workflowId}/conversation/7`))!) as { role: string; content: string }[];
      const results = conversation.filter((m) => m.role === 'tool').map((m) => m.content.split('\n')[0]);
      expect(results).toEqual([
        '1 matches in 1 files for /function sum/ (count per file; set show_lines to see the lines):',
        expect.stringContaining('Format error: Unknown tool "open_file"'),
        '     1\tfunction sum(a, b) {',
        'No replacement: old_str was not found in src/math/sum.js. The closest lines are:',
        'Replaced in src/math/sum.js:',
        '$ node test/sum.test.js',
      ]);
      // Every edit is a commit on the task branch.
      const log = await git(['log', '--format=%s', `${state.baseSha}..${state.greenSha}`], { cwd: state.remote });
      expect(log).toContain('str_replace src/math/sum.js (step 4)');
    });
  });

  it("runs every tool call in the task's warm workspace: what setup and one run leave (ignored), the next call sees", async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'warm'), {
      ...REPO,
      '.gitignore': 'build/\n',
      '.ado.yml': 'setup: mkdir -p build && echo installed > build/deps\ngates:\n  test: node test/sum.test.js\n',
    });
    const answers = agentTranscript([
      [{ name: 'run', arguments: { command: 'cat build/deps && echo compiled > build/out' } }],
      [{ name: 'str_replace', arguments: { path: 'src/math/sum.js', old_str: 'return a - b;', new_str: 'return a + b;' } }],
      [{ name: 'run', arguments: { command: 'cat build/out' } }],
      [{ name: 'finish', arguments: { summary: 'sum adds' } }],
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'warm', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      expect((await handle.result()).status).toBe('completed');
      const state = await stateOf(handle);
      expect(state.session?.steps.map((s) => `${s.tool}:${s.outcome}`)).toEqual(['run:ok', 'str_replace:ok', 'run:ok', 'finish:ok']);
      const observation = (step: number) => stack.parts().store.agentBlobs.get(`${state.session!.workflowId}/observation/${step}`);
      expect(await observation(1)).toContain('installed');
      // After a commit in between: the tree is the same one, with what the first run built.
      expect(await observation(3)).toContain('compiled');
      // The session acquired the tree, and the task's own activities (execute, gates) used it.
      const acquisitions = async (h: { fetchHistory: typeof handle.fetchHistory }) =>
        (await h.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'acquireWorkspace').length;
      expect(await acquisitions(stack.env().client.workflow.getHandle(state.session!.workflowId))).toBe(1);
      expect(await acquisitions(handle)).toBe(0);
    });
  });

  it('three turns in a row without a usable tool call fail the task with MalformedToolCalls', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'malformed'), REPO);
    const answers = agentTranscript([
      [{ name: 'view', arguments: '{"path": ' }],
      [{ name: 'nonexistent', arguments: {} }],
      [{ name: 'str_replace', arguments: { path: 'src/math/sum.js' } }],
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'malformed', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.MalformedToolCalls);
      expect(failure.message).toContain('no usable tool call 3 turns in a row');
    });
  });
});
