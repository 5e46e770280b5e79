/**
 * Representative task runs, driven through a real server with the test activities. Their
 * histories are recorded into `histories/` (`npm run histories:record`) and replayed in CI, so a
 * workflow change that would break running tasks fails the build.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { FakeScript } from '../fakes/test-activities';
import type { TaskQueues } from '../../src/domain/task';
import { cancelTaskSignal, decideUpdate, humanApprovalSignal } from '../../src/workflows/messages';
import { pendingApproval, startTask, stateOf, taskInput, waitFor, type TaskHandle } from '../helpers/workflow';

export interface Scenario {
  name: string;
  script: FakeScript;
  run(client: Client, queues: TaskQueues): Promise<TaskHandle>;
  /** Child workflows whose histories are recorded beside the task's (`<name>.<suffix>.json`). */
  children?: (client: Client, handle: TaskHandle) => Promise<Record<string, WorkflowHandle>>;
}

const failing = (n: number) => [{ tool: 'test', exitCode: 1, message: `AssertionError: expected 400, got 200\n  at /ws/${n}/test/a.test.js:${n}:3` }];

async function settle(handle: TaskHandle): Promise<TaskHandle> {
  await handle.result().catch(() => undefined);
  return handle;
}

export const SCENARIOS: Scenario[] = [
  {
    // The task id is the scenario's name: the replay test names each workflow after its file, and
    // the session's id is made from the task's.
    name: 'agent-session-finish',
    script: { agentTurns: [['search'], ['open_file'], ['view', 'str_replace'], ['finish']] },
    run: async (client, queues) => settle(await startTask(client, queues.task, taskInput({ taskId: 'agent-session-finish', coder: 'agent' }))),
    children: async (client, handle) => ({ session: client.workflow.getHandle((await stateOf(handle)).session!.workflowId) }),
  },
  {
    // 150 tokens a model call: plan and subtasks 300, two turns 600 of 500; the session pauses
    // before its third turn, and goes on (a second run under the same id) after the extension.
    name: 'agent-session-budget',
    script: { agentTurns: [['view'], ['search'], ['view'], ['finish']] },
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'agent-session-budget', coder: 'agent', budget: { maxTotalTokens: 500 } }));
      await pendingApproval(handle, 'budget');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'budget', budget: { maxTotalTokens: 5000 }, comment: 'go on' }] });
      return settle(handle);
    },
    children: async (client, handle) => {
      const started = (await handle.fetchHistory()).events!.flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution ?? []);
      const [paused, resumed] = started.map((run) => client.workflow.getHandle(run.workflowId!, run.runId!));
      return { session: paused!, resumed: resumed! };
    },
  },
  {
    // The second turn reports the conversation near the window: the session condenses it once,
    // and the third turn continues the condensed conversation.
    name: 'agent-session-condensed',
    script: { agentTurns: [['view'], ['search'], ['view'], ['finish']], agentFullAfter: [2] },
    run: async (client, queues) => settle(await startTask(client, queues.task, taskInput({ taskId: 'agent-session-condensed', coder: 'agent' }))),
    children: async (client, handle) => ({ session: client.workflow.getHandle((await stateOf(handle)).session!.workflowId) }),
  },
  {
    name: 'happy-path-two-iterations',
    script: { gateFailures: [failing(1)] },
    run: async (client, queues) => settle(await startTask(client, queues.task, taskInput({ taskId: 'replay-happy' }))),
  },
  {
    name: 'hitl-approve-plan-and-pr',
    script: {},
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'replay-hitl', hitlEnabled: true }));
      await pendingApproval(handle, 'plan');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, reviewer: 'ana', channel: 'cli' }] });
      await pendingApproval(handle, 'pr');
      await handle.signal(humanApprovalSignal, { approved: true, reviewer: 'bo', channel: 'temporal-cli' });
      return settle(handle);
    },
  },
  {
    name: 'stuck-continue-then-pass',
    script: { gateFailures: [failing(1), failing(2), failing(3)] },
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'replay-stuck', hitlEnabled: true }));
      await pendingApproval(handle, 'plan');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      await pendingApproval(handle, 'stuck');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'stuck' }] });
      await pendingApproval(handle, 'pr');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: false, comment: 'not yet' }] });
      return settle(handle);
    },
  },
  {
    name: 'budget-extended',
    script: {},
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'replay-budget', budget: { maxTotalTokens: 200 } }));
      await pendingApproval(handle, 'budget');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, budget: { maxTotalTokens: 5000 } }] });
      return settle(handle);
    },
  },
  {
    name: 'cancelled-by-signal-mid-activity',
    script: { delays: { generateCode: 30_000 } },
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'replay-cancel' }));
      await waitFor(async () => {
        const history = await handle.fetchHistory();
        return history.events?.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateCode') ? true : undefined;
      }, 'generateCode to be scheduled');
      await handle.signal(cancelTaskSignal, { reason: 'replay fixture', requestedBy: 'test' });
      return settle(handle);
    },
  },
  {
    name: 'hitl-revise-at-pr',
    script: {},
    run: async (client, queues) => {
      const handle = await startTask(client, queues.task, taskInput({ taskId: 'replay-revise', hitlEnabled: true }));
      await pendingApproval(handle, 'plan');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      const first = await pendingApproval(handle, 'pr');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: false, revise: true, comment: 'Also trim the email', reviewer: 'bo' }] });
      await waitFor(async () => ((await pendingApproval(handle, 'pr')).id !== first.id ? true : undefined), 'the revised pull request');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      return settle(handle);
    },
  },
];
