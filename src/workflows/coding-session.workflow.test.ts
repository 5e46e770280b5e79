import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities } from '../../test/fakes/test-activities';
import { startLocalEnv, withWorkers } from '../../test/helpers/temporal';
import { failureOf, startTask, stateOf, taskInput } from '../../test/helpers/workflow';
import { FailureType } from '../domain/errors';
import { TURNS_PER_RUN } from './coding-session.workflow';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startLocalEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Every run of the workflow `workflowId`, first to last, following continue-as-new. */
async function runsOf(workflowId: string, firstRunId: string) {
  const runs = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

describe('codingSessionWorkflow', () => {
  it('a 300-step session continues as new and keeps every run under 10,240 events and 10 MB', async () => {
    const turns = [...Array.from({ length: 300 }, () => ['view']), ['finish']];
    const fake = createTestActivities({ agentTurns: turns });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ coder: 'agent', maxAgentSteps: 400 }));
      expect((await handle.result()).status).toBe('completed');
      const state = await stateOf(handle);
      expect(state.session?.steps.at(-1)).toMatchObject({ index: 301, tool: 'finish', outcome: 'ok' });
      expect(state.session?.steps).toHaveLength(100);

      const started = (await handle.fetchHistory()).events?.find((e) => e.childWorkflowExecutionStartedEventAttributes);
      const runs = await runsOf(state.session!.workflowId, started!.childWorkflowExecutionStartedEventAttributes!.workflowExecution!.runId!);
      expect(runs.length).toBe(Math.ceil(301 / TURNS_PER_RUN));
      for (const run of runs) {
        expect(run.events!.length).toBeLessThan(10_240);
        expect(historyToJSON(run).length).toBeLessThan(10 * 1024 * 1024);
      }
      // Each model turn ran once, across every run.
      expect(fake.count('agentTurn')).toBe(301);
    });
  });

  it('recovers from a malformed call, and fails the task after three malformed turns in a row', async () => {
    const recovered = createTestActivities({ agentTurns: [['open_file'], ['view'], ['finish']] });
    await withWorkers(env, recovered.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ coder: 'agent' }));
      expect((await handle.result()).status).toBe('completed');
      expect((await stateOf(handle)).session?.steps.map((s) => s.tool)).toEqual(['view', 'finish']);
    });
    const failing = createTestActivities({ agentTurns: [['open_file'], ['bogus'], ['nope'], ['finish']] });
    await withWorkers(env, failing.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ coder: 'agent' }));
      expect((await failureOf(handle.result())).type).toBe(FailureType.MalformedToolCalls);
    });
  });

  it('a session that repeats the same action is stuck: the task fails without HITL', async () => {
    const fake = createTestActivities({ agentTurns: Array.from({ length: 10 }, () => ['view']), agentRepeats: true });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ coder: 'agent' }));
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.Stuck);
      expect(failure.message).toContain('ran 4 times in a row with the same result');
    });
  });
});
