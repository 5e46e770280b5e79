/**
 * The versioning routine, shown on the real workflow (docs/production.md, "Changing the
 * workflow"): one incompatible change — a timer before anything else — fails the replay of the
 * recorded histories when it is unguarded, and passes behind `patched()`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWorkflowBundle } from '../../src/worker/workers';
import { installTestRuntime } from '../helpers/temporal';

const historiesDir = path.join(__dirname, 'histories');
let bundles: string;

beforeAll(async () => {
  installTestRuntime();
  bundles = await mkdtemp(path.join(os.tmpdir(), 'ado-replay-guard-'));
});
afterAll(() => rm(bundles, { recursive: true, force: true }));

/** The current workflow's recorded task histories (a coding session's, its child, has no task workflow to change). */
async function taskHistories() {
  const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json'));
  const histories = await Promise.all(
    files.map(async (file) => ({
      // The id the history was recorded under (the task's coding sessions are named after it).
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(await readFile(path.join(historiesDir, file), 'utf8'))),
    })),
  );
  return histories.filter((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'taskExecutionWorkflow');
}

/** Replays the current workflow's recorded task histories on the workflow code of `variant`; returns the failures. */
async function replayWith(variant: 'unguarded' | 'guarded'): Promise<string[]> {
  const codePath = path.join(bundles, `${variant}.js`);
  await writeWorkflowBundle(codePath, path.join(__dirname, 'variants', `${variant}.workflow.ts`));
  const histories = await taskHistories();
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath } }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  expect(histories.length).toBeGreaterThanOrEqual(5);
  return failures;
}

describe('an incompatible workflow change', () => {
  it('fails the replay of running tasks when it is not guarded', async () => {
    const failures = await replayWith('unguarded');
    // Every recorded task would break: each history's first command is not the new timer.
    expect(failures).toHaveLength((await taskHistories()).length);
    expect(failures.every((f) => /DeterminismViolationError|[Nn]ondetermin/.test(f))).toBe(true);
  });

  it('replays them all behind patched()', async () => {
    expect(await replayWith('guarded')).toEqual([]);
  });
});
