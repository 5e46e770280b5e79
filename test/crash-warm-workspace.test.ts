/**
 * Crash safety of warm workspaces: the worker holding a task's workspace is SIGKILLed while the
 * gates run in it. The task acquires a new workspace on another worker from the last pushed
 * commit and finishes there: the model's commit is not lost, no finished step runs again, and
 * setup ran at most once per workspace. Commands are counted from outside the activities, as
 * each worker process handed them to its sandbox.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { taskQueues } from '../src/domain/task';
import { git } from '../src/workspace/git';
import { WarmWorkspaces } from '../src/workspace/warm';
import { startTsProcess, type TestProcess } from './helpers/processes';
import { codeAnswer, createRepository, transcript } from './helpers/real-task';
import { useRealTaskStack } from './helpers/real-stack';
import { uniqueTaskId } from './helpers/temporal';
import { startTask, stateOf, taskInput, waitFor } from './helpers/workflow';

const stack = useRealTaskStack();
const processes: TestProcess[] = [];
afterAll(() => Promise.all(processes.map((p) => p.kill())));

const SETUP = 'mkdir -p deps && echo installed > deps/ready';
const TEST_GATE = 'sleep 3; test -f deps/ready && grep -q fixed src/state.txt';

async function worker(prefix: string, label: string, answers: unknown): Promise<{ runs: () => string[] }> {
  const runsFile = path.join(stack.parts().work, `${label}.runs`);
  processes.push(
    await startTsProcess('test/fixtures/real-worker.ts', {
      TEMPORAL_ADDRESS: stack.env().address,
      ADO_TASK_QUEUE_PREFIX: prefix,
      ADO_TEST_WORK: stack.parts().work,
      ADO_TEST_TRANSCRIPT: JSON.stringify(answers),
      ADO_TEST_RUNS_FILE: runsFile,
    }),
  );
  const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as string) : []);
  return { runs };
}

const count = (runs: string[], command: string) => runs.filter((r) => r === command).length;

describe('warm workspace crash safety', () => {
  it('a worker killed mid-gates while it holds the workspace: the task finishes on another worker, nothing lost, nothing finished repeated', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'crash'), {
      'package.json': '{ "name": "app", "version": "1.0.0" }\n',
      'src/state.txt': 'broken\n',
      '.ado.yml': `setup: "${SETUP}"\nexecute: "test -f deps/ready"\ngates:\n  test: "${TEST_GATE}"\n  lint: "test -f deps/ready"\n`,
    });
    const answers = transcript([codeAnswer('Fix', [{ type: 'write', path: 'src/state.txt', content: 'fixed\n' }])]);
    const prefix = `${uniqueTaskId('warm-crash')}-`;

    const first = await worker(prefix, 'first', answers);
    const handle = await startTask(stack.env().client, taskQueues(prefix).task, taskInput({ repository, maxIterations: 1 }));
    await waitFor(async () => (count(first.runs(), TEST_GATE) === 1 ? true : undefined), 'the gates to run on the first worker', 120_000);
    await processes[0]!.kill();

    const second = await worker(prefix, 'second', answers);
    const result = await handle.result();
    expect(result.status).toBe('completed');

    // The first workspace: set up once, executed once, killed in the gates.
    expect(count(first.runs(), SETUP)).toBe(1);
    expect(count(first.runs(), 'test -f deps/ready')).toBeLessThanOrEqual(2); // execute, and lint if it started
    // The second: set up once, ran the gates; execute had finished before the crash and did not run again.
    expect(count(second.runs(), SETUP)).toBe(1);
    expect(count(second.runs(), TEST_GATE)).toBe(1);
    expect(second.runs().filter((r) => r !== SETUP && r !== TEST_GATE)).toEqual(['test -f deps/ready']);
    // The model's commit survived the crash in the shared remote: one commit, not a second generation.
    const state = await stateOf(handle);
    expect(await git(['rev-list', '--count', `${state.baseSha}..${result.pullRequest.headSha}`], { cwd: state.remote })).toBe('1');

    // The dead worker left its workspace, and its dependency cache where there is one (runs as
    // another user: as root), until a sweep. No worker reads another's cache: the second ran
    // setup itself (above), on the model's commit, which no cache keeps (only setups of the base
    // commit are shared). The second released its workspace.
    const cached = process.getuid?.() === 0;
    const root = path.join(stack.parts().work, 'scratch', 'warm');
    const swept = (await new WarmWorkspaces({ root, workerId: 'sweeper' }).sweep()).map((folder) => path.basename(folder));
    const workerOf = (folder: string) => folder.slice(folder.lastIndexOf('.') + 1);
    const sweptWorkspaces = swept.filter((name) => !name.startsWith('deps.'));
    expect(sweptWorkspaces).toHaveLength(1);
    const dead = workerOf(sweptWorkspaces[0]!);
    expect(swept.filter((name) => name.startsWith('deps.'))).toEqual(cached ? [`deps.${dead}`] : []);
    const left = await readdir(root);
    expect(left).toEqual([]);
  }, 240_000);
});
