import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities } from '../../test/fakes/test-activities';
import { startTimeSkippingEnv, withWorkers } from '../../test/helpers/temporal';
import { failureOf, startTask, stateOf, taskInput } from '../../test/helpers/workflow';
import { FailureType } from '../domain/errors';

// The time-skipping server: a 30-minute approval wait passes in a moment.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('approval timeout', () => {
  it('fails the task after the default 30 minutes, naming the checkpoint', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.ApprovalTimeout);
      expect(failure.message).toBe('Human approval timeout for checkpoint: plan (no decision within 30 minutes)');
      const state = await stateOf(handle);
      expect(state.phase).toBe('failed');
      expect(state.pendingApproval).toBeUndefined();
      expect(fake.count('decomposeTask')).toBe(0);
    });
  });

  it('honours a per-task timeout', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true, approvalTimeoutMs: 2 * 3_600_000 }));
      const failure = await failureOf(handle.result());
      expect(failure.message).toBe('Human approval timeout for checkpoint: plan (no decision within 2 hour(s))');
    });
  });
});
