/**
 * Warm task workspaces through whole tasks on ADO's real parts (dev server, real activities, git,
 * bubblewrap): the repository's `setup` runs once per task while its dependencies stay the same,
 * again when the model changes a lockfile, and the workspace is gone when the task ends. Setup
 * runs are counted from outside the activities, as commands handed to the sandbox.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxRunSpec } from '../../src/sandbox/types';
import { codeAnswer, createRepository, realActivities, transcript } from '../helpers/real-task';
import { useRealTaskStack } from '../helpers/real-stack';
import { withWorkers } from '../helpers/temporal';
import { startTask, taskInput } from '../helpers/workflow';

const stack = useRealTaskStack();

const SETUP = 'mkdir -p deps && echo installed > deps/ready';

const TEST_GATE = 'test -f deps/ready && grep -q fixed src/state.txt';

/**
 * A repository whose gates need what setup installed, and pass once src/state.txt says "fixed"
 * (and `testGate`, a command in double quotes in YAML, passes).
 */
function repository(name: string, testGate = TEST_GATE): Promise<string> {
  return createRepository(path.join(stack.parts().work, 'repos', name), {
    'package.json': '{ "name": "app", "version": "1.0.0" }\n',
    'package-lock.json': '{ "lockfileVersion": 3, "revision": 1 }\n',
    'src/state.txt': 'broken\n',
    '.ado.yml': `setup: "${SETUP}"\nexecute: "test -f deps/ready"\ngates:\n  test: "${testGate}"\n  lint: "test -f deps/ready"\n`,
  });
}

const edit = (file: string, content: string) => ({ type: 'write', path: file, content });

/**
 * Runs a task of `answers` (one per iteration) to its end on `repo` (default: a new repository
 * named `name`); returns the commands the sandbox was given.
 */
async function runTask(name: string, answers: string[], repo?: string): Promise<SandboxRunSpec[]> {
  const runs: SandboxRunSpec[] = [];
  const activities = await realActivities(stack.parts(), name, transcript(answers), {}, (spec) => void runs.push(spec));
  await withWorkers(stack.env(), activities, async ({ queues }) => {
    const handle = await startTask(stack.env().client, queues.task, taskInput({ repository: repo ?? (await repository(name)), maxIterations: answers.length }));
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.iterations).toBe(answers.length);
  });
  return runs;
}

const setupRuns = (runs: SandboxRunSpec[]) => runs.filter((r) => r.command === SETUP).length;
const warmRoot = () => path.join(stack.parts().work, 'scratch', 'warm');
/** The task workspaces left in the warm root (the worker's dependency cache, `deps.<worker>`, stays). */
const workspacesLeft = async () => (existsSync(warmRoot()) ? (await readdir(warmRoot())).filter((name) => !name.startsWith('deps.')) : []);

describe('warm task workspaces', () => {
  it('runs setup once for a task of two iterations (execute and four gate runs reuse it), and removes the workspace at the end', async () => {
    const runs = await runTask('once', [
      codeAnswer('Try', [edit('src/state.txt', 'still broken\n')]),
      codeAnswer('Fix', [edit('src/state.txt', 'fixed\n')]),
    ]);
    expect(setupRuns(runs)).toBe(1);
    // execute twice, two gates twice: all on the tree setup prepared.
    expect(runs.length).toBe(1 + 2 + 4);
    expect(await workspacesLeft()).toEqual([]);
  });

  it('runs setup again when the model changes the lockfile, and only then', async () => {
    const runs = await runTask('lockfile', [
      codeAnswer('Bump a dependency', [edit('package-lock.json', '{ "lockfileVersion": 3, "revision": 2 }\n')]),
      codeAnswer('Fix', [edit('src/state.txt', 'fixed\n')]),
    ]);
    expect(setupRuns(runs)).toBe(2);
  });

  // The cache shares files between tasks' trees: only where runs cannot write them (as root: nobody).
  it.runIf(process.getuid?.() === 0)(
    "never shows one task's workspace to another: a later task from the same commit gets only what setup installed, linked; a changed lockfile runs setup",
    async () => {
      // Each task writes one note: a tree that showed another task's work would hold two, and fail.
      const repo = await repository('cached', `${TEST_GATE} && test $(ls notes | wc -l) = 1`);
      const fix = (note: string) => [edit('src/state.txt', 'fixed\n'), edit(`notes/${note}.txt`, `${note}\n`)];
      expect(setupRuns(await runTask('cached-1', [codeAnswer('Fix', fix('first'))], repo))).toBe(1);
      // Same repository, same lockfile: no setup run, yet the gates find deps/ready.
      const second = await runTask('cached-2', [codeAnswer('Fix', fix('second'))], repo);
      expect(setupRuns(second)).toBe(0);
      expect(second.length).toBe(1 + 2);
      // A task that changes the lockfile: linked at first, then setup runs for the new lockfile.
      const bump = edit('package-lock.json', '{ "lockfileVersion": 3, "revision": 2 }\n');
      expect(setupRuns(await runTask('cached-3', [codeAnswer('Bump', [bump]), codeAnswer('Fix', fix('third'))], repo))).toBe(1);
      expect(await workspacesLeft()).toEqual([]);
    },
  );
});
