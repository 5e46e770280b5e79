/**
 * Progress between phase changes, for real: a task on a Temporal dev server with ADO's real
 * activities (git, bubblewrap) and encrypting workers runs a slow quality gate; `ado status`'s
 * report and `ado run --wait`'s follower show which gates run and how many are done, read from
 * the activity's heartbeat details with the client's codec (without it the details are ciphertext).
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { TaskClient, type FollowEvent } from '../../src/client/task-client';
import { describeState } from '../../src/cli/output';
import { createDataConverter } from '../../src/codec/data-converter';
import { generateKey, Keyring } from '../../src/codec/keyring';
import { codeAnswer, createRepository, realActivities, transcript } from '../helpers/real-task';
import { useRealTaskStack } from '../helpers/real-stack';
import { withWorkers } from '../helpers/temporal';
import { startTask, taskInput, waitFor } from '../helpers/workflow';

const stack = useRealTaskStack();
const GATE_DOING = 'quality gates: test running (1 of 2 done)';

describe('progress between phase changes', () => {
  it('shows which gates run and how many are done, in the report and to a follower, through the codec', async () => {
    const repository = await createRepository(path.join(stack.parts().work, 'repos', 'slow-gate'), {
      '.ado.yml': 'gates:\n  test: sleep 5\n  lint: "true"\n',
      'README.md': '# slow\n',
    });
    const dataConverter = createDataConverter(new Keyring([generateKey('k1')]));
    const activities = await realActivities(stack.parts(), 'slow-gate', transcript([codeAnswer('Note', [{ type: 'write', path: 'NOTE.md', content: 'note\n' }])]));
    await withWorkers(
      stack.env(),
      activities,
      async ({ queues }) => {
        const tasks = new TaskClient(new Client({ connection: stack.env().connection, namespace: stack.env().namespace, dataConverter }));
        const handle = await startTask(tasks.client, queues.task, taskInput({ repository, maxIterations: 1 }));
        const events: FollowEvent[] = [];
        const followed = tasks.follow(handle.workflowId, (event) => events.push(event));

        const report = await waitFor(async () => {
          const seen = await tasks.report(handle.workflowId);
          return seen.running.some((r) => r.progress?.doing === GATE_DOING) ? seen : undefined;
        }, 'the report of the slow gate');
        expect(report.running).toEqual([
          { activity: 'runQualityGates', attempt: 1, startedAt: expect.any(String), progress: { doing: GATE_DOING, since: expect.any(String) } },
        ]);
        expect(describeState(report.state!, report.status, report.running)).toMatch(new RegExp(`\\n  now: +${GATE_DOING.replace(/[()]/g, '\\$&')} for \\d+ s`));
        // A client without the key sees the activity, not what it does.
        const blind = await new TaskClient(stack.env().client).report(handle.workflowId);
        expect(blind.running.map((r) => [r.activity, r.progress])).toEqual([['runQualityGates', undefined]]);

        expect((await followed).ok).toBe(true);
        const told = events.flatMap((e) => (e.type === 'progress' ? e.running.map((r) => r.progress?.doing ?? r.activity) : []));
        expect(told).toContain(GATE_DOING);
      },
      'all',
      { dataConverter },
    );
  });
});
