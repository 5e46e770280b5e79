/**
 * Replays recorded task histories against the current workflow code: a change that would make
 * running tasks non-deterministic fails here. Use `patched()` for such changes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../../src/worker/workers';

// The current workflow's histories, and in subfolders those of earlier versions still replayed.
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));

describe('workflow replay over recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it('replays every recorded history without nondeterminism', async () => {
    const histories = files.map((file) => ({
      // The id it was recorded under (a task's coding sessions are named after it).
      workflowId: path.basename(file).replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle({ prebuilt: process.env.ADO_WORKFLOW_BUNDLE }) }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
