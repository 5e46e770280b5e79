import { CancelledFailure, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities, type FakeFailure } from '../../test/fakes/test-activities';
import { startLocalEnv, withWorkers } from '../../test/helpers/temporal';
import { expectReplays, failureOf, pendingApproval, startTask, stateOf, taskInput, waitFor } from '../../test/helpers/workflow';
import { FailureType } from '../domain/errors';
import { AdoPhase, AdoRepository } from '../domain/search-attributes';
import type { ApprovalDecision } from '../domain/task';
import { cancelTaskSignal, checkpointStatusQuery, decideUpdate, humanApprovalSignal } from './messages';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startLocalEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const testFailure = (line: number, dir: string): FakeFailure => ({
  tool: 'test',
  exitCode: 1,
  message: `✖ signup rejects empty email (${line}.2ms)\n  AssertionError: expected 400, got 200\n    at ${dir}/test/signup.test.js:${line}:7`,
});

describe('taskExecutionWorkflow without HITL', () => {
  it('runs a task from plan to pull request and keeps phase and repository searchable', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput());
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', iterations: 1, pullRequestUrl: expect.stringContaining('fake://pr/') });
      expect(result.usage.totalTokens).toBe(450); // plan + decompose + one code iteration
      const state = await stateOf(handle);
      expect(state.phaseHistory.map((p) => p.phase)).toEqual(['planning', 'decomposing', 'coding', 'testing', 'review', 'completed']);
      expect(state.greenSha).toBe('sha1');
      expect(fake.count('requestHumanApproval')).toBe(0);
      expect(fake.count('mergePullRequest')).toBe(0);
      expect(fake.count('notifyTaskOutcome')).toBe(1);
      expect(fake.count('saveCheckpoint')).toBeGreaterThanOrEqual(5);
      const attributes = (await handle.describe()).typedSearchAttributes;
      expect(attributes.get(AdoPhase)).toBe('completed');
      expect(attributes.get(AdoRepository)).toBe('/srv/repos/app');
    });
  });

  it('feeds the failures of one iteration to the next generateCode and passes on the second', async () => {
    const fake = createTestActivities({ gateFailures: [[testFailure(12, '/tmp/ws-a')]] });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const result = await (await startTask(env.client, queues.task, taskInput())).result();
      expect(result.iterations).toBe(2);
      const second = fake.calls.filter((c) => c.name === 'generateCode')[1]?.input as { previousErrors: Array<{ tool: string; message: string }> };
      expect(second.previousErrors).toEqual([expect.objectContaining({ tool: 'test', message: expect.stringContaining('expected 400, got 200') })]);
    });
  });

  it("fails with the design's message when the gates never pass within maxIterations", async () => {
    // Different failures each time, so this is not "stuck".
    const gateFailures = [1, 2, 3].map((i) => [{ tool: 'lint', message: `error: rule-${'abc'[i - 1]} broken` }]);
    const fake = createTestActivities({ gateFailures });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ maxIterations: 3 }));
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.MaxIterationsExceeded);
      expect(failure.message).toBe('Quality gates failed after 3 iterations');
      const state = await stateOf(handle);
      expect(state.phase).toBe('failed');
      expect(state.attempts).toBe(3);
      expect(state.errors).toHaveLength(3);
      expect(fake.count('createPullRequest')).toBe(0);
    });
  });

  it('fails as stuck when the same error fingerprint repeats three times (paths and line numbers differ)', async () => {
    const fake = createTestActivities({
      gateFailures: [[testFailure(12, '/tmp/ws-a')], [testFailure(14, '/tmp/ws-b')], [testFailure(19, '/var/tmp/other')]],
    });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput());
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.Stuck);
      const state = await stateOf(handle);
      expect(new Set(state.errors.map((e) => e.fingerprint)).size).toBe(1);
      expect(state.attempts).toBe(3);
    });
  });

  it("an activity's own failure still gets the retry policy's 3 attempts, and the task says what failed", async () => {
    const fake = createTestActivities();
    let attempts = 0;
    const runQualityGates = async () => {
      attempts++;
      throw new Error('the gate runner broke');
    };
    await withWorkers(env, { ...fake.activities, runQualityGates }, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput());
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(attempts).toBe(3);
      const state = await stateOf(handle);
      expect(state.phase).toBe('failed');
      expect(state.failure).toBe('the gate runner broke');
    });
  });

  it('rejects invalid input with a typed, non-retryable failure before doing anything', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ prompt: '   ' }));
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.message).toContain('prompt');
      expect(fake.calls).toHaveLength(0);
    });
  });
});

describe('taskExecutionWorkflow with HITL', () => {
  it('waits for approval of the plan and the PR (by update and by signal) and merges', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      const plan = await pendingApproval(handle, 'plan');
      expect(plan.context).toContain('Plan for:');
      expect((await handle.query(checkpointStatusQuery)).pendingApproval?.id).toBe(plan.id);
      const accepted = await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'plan', reviewer: 'ana', channel: 'test' }] });
      expect(accepted).toEqual({ requestId: plan.id, checkpoint: 'plan', approved: true });

      const pr = await pendingApproval(handle, 'pr');
      expect(pr.id).not.toBe(plan.id);
      await handle.signal(humanApprovalSignal, { approved: true, reviewer: 'bo', channel: 'test' });
      const result = await handle.result();
      expect(result.pullRequest.merged).toBe(true);
      const state = await stateOf(handle);
      expect(state.approvals.map((a) => [a.request.checkpoint, a.decision.reviewer])).toEqual([
        ['plan', 'ana'],
        ['pr', 'bo'],
      ]);
      expect(fake.count('requestHumanApproval')).toBe(2);
      expect(fake.count('recordApprovalDecision')).toBe(2);
    });
  });

  it('rejects stale, duplicate and mismatched decisions in the update validator and changes nothing', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      const plan = await pendingApproval(handle, 'plan');

      await expect(handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'pr' }] })).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(handle.executeUpdate(decideUpdate, { args: [{ approved: true, requestId: 'not-this-one' }] })).rejects.toThrow(
        WorkflowUpdateFailedError,
      );
      // A mismatched signal is ignored too, and so is a malformed one; the state says so.
      await handle.signal(humanApprovalSignal, { approved: false, checkpoint: 'stuck' });
      await handle.signal(humanApprovalSignal, { approved: 'yes' } as unknown as { approved: boolean });
      const ignored = await stateOf(handle);
      expect(ignored.pendingApproval?.id).toBe(plan.id);
      expect(ignored.ignoredDecisions?.map((d) => d.reason)).toEqual([
        'Task ' + ignored.taskId + ' waits at checkpoint "plan", not "stuck".',
        'A decision needs "approved": true or false.',
      ]);

      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, requestId: plan.id }] });
      // The same decision again: nothing pending for it any more.
      const duplicate = handle.executeUpdate(decideUpdate, { args: [{ approved: false, requestId: plan.id }] });
      await expect(duplicate).rejects.toThrow(WorkflowUpdateFailedError);
      await pendingApproval(handle, 'pr');
      const state = await stateOf(handle);
      expect(state.approvals).toHaveLength(1);
      expect(state.approvals[0]?.decision.approved).toBe(true);
      await handle.terminate('test done');
    });
  });

  it('sends the task back to coding when the reviewer asks for changes at pr, with the comment in the next generateCode; its history replays', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      await pendingApproval(handle, 'plan');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'plan', reviewer: 'ana', comment: 'Keep the old API' }] });
      const first = await pendingApproval(handle, 'pr');
      const comment = 'Also reject emails without a domain';
      const accepted = await handle.executeUpdate(decideUpdate, { args: [{ approved: false, revise: true, checkpoint: 'pr', reviewer: 'bo', comment }] });
      expect(accepted).toEqual({ requestId: first.id, checkpoint: 'pr', approved: false });

      const second = await pendingApproval(handle, 'pr');
      expect(second.id).not.toBe(first.id);
      const generated = fake.calls.filter((c) => c.name === 'generateCode').map((c) => c.input as { iteration: number; guidance?: string[] });
      expect(generated.map((g) => [g.iteration, g.guidance])).toEqual([
        [1, ['A reviewer said: Keep the old API']],
        [2, ['A reviewer said: Keep the old API', `A reviewer asked for changes to the pull request: ${comment}`]],
      ]);
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', iterations: 2, pullRequest: { merged: true, headSha: 'sha2' } });
      await expectReplays(handle);
      // The revise marker comes before the decision's store write (a local activity), in the
      // workflow task that took the decision: after it, the marker could land in the next one,
      // beyond what a replay looks ahead to, and queries of the finished task would fail.
      const events = (await handle.fetchHistory()).events ?? [];
      const decided = events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes);
      // The updates: plan approved, pr revised, pr approved.
      const revise = events.indexOf(decided[1]!);
      expect(events.slice(revise).find((e) => e.markerRecordedEventAttributes)?.markerRecordedEventAttributes?.markerName).toBe('core_patch');
      const state = await stateOf(handle);
      expect(state.revisions).toBe(1);
      expect(state.phaseHistory.map((p) => p.phase)).toEqual(['planning', 'decomposing', 'coding', 'testing', 'review', 'coding', 'testing', 'review', 'completed']);
      expect(fake.count('createPullRequest')).toBe(2);
      expect(fake.count('mergePullRequest')).toBe(1);
    });
  });

  it('gives the comment of a revise to the next coding session of the agent coder, in its brief', async () => {
    const fake = createTestActivities({ agentTurns: [['finish']] });
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true, coder: 'agent' }));
      await pendingApproval(handle, 'plan');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      await pendingApproval(handle, 'pr');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: false, revise: true, reviewer: 'bo', comment: 'Trim the email first' }] });
      await pendingApproval(handle, 'pr');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      expect((await handle.result()).iterations).toBe(2);
      await expectReplays(handle);
      const briefs = fake.calls.filter((c) => c.name === 'agentTurn').map((c) => (c.input as { iteration: number; brief?: { feedback: string[] } }));
      expect(briefs.map((b) => [b.iteration, b.brief?.feedback])).toEqual([
        [1, []],
        [2, ['A reviewer asked for changes to the pull request: Trim the email first']],
      ]);
    });
  });

  it('refuses a revise without a comment, or at a checkpoint other than pr, and changes nothing', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      const plan = await pendingApproval(handle, 'plan');
      const refusal = (decision: ApprovalDecision) =>
        handle.executeUpdate(decideUpdate, { args: [decision] }).then(
          () => 'accepted',
          (err: WorkflowUpdateFailedError) => (err.cause as Error).message,
        );
      expect(await refusal({ approved: false, revise: true, comment: 'do more' })).toBe(
        `Task ${handle.workflowId} waits at checkpoint "plan". Only a pull request (checkpoint "pr") can be sent back for changes, not checkpoint "plan"; approve or reject it instead (the comment is recorded either way).`,
      );
      expect(await refusal({ approved: false, revise: true, comment: '  ' })).toContain('needs a comment saying what to change');
      expect(await refusal({ approved: true, revise: true, comment: 'x' })).toContain('goes with a rejection');
      const state = await stateOf(handle);
      expect(state.pendingApproval?.id).toBe(plan.id);
      expect(state.approvals).toHaveLength(0);
      await handle.terminate('test done');
    });
  });

  it.each([
    ['plan', 'Plan rejected by human reviewer', FailureType.Rejected],
    ['pr', 'PR rejected by human reviewer', FailureType.Rejected],
  ] as const)('fails with the reason when the %s checkpoint is rejected', async (checkpoint, message, type) => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
      if (checkpoint === 'pr') {
        await pendingApproval(handle, 'plan');
        await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      }
      await pendingApproval(handle, checkpoint);
      await handle.executeUpdate(decideUpdate, { args: [{ approved: false, checkpoint, reviewer: 'cy', comment: 'not like this' }] });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(type);
      expect(failure.message).toBe(`${message} (cy): not like this`);
      const state = await stateOf(handle);
      expect(state.phase).toBe('failed');
      expect(state.failure).toBe(failure.message);
      expect(fake.count('mergePullRequest')).toBe(0);
    });
  });

  it('escalates a stuck task to a human: approving continues, rejecting fails', async () => {
    const stuckThenPass = [[testFailure(1, '/a')], [testFailure(2, '/b')], [testFailure(3, '/c')]];
    for (const approved of [true, false]) {
      const fake = createTestActivities({ gateFailures: stuckThenPass });
      await withWorkers(env, fake.activities, async ({ queues }) => {
        const handle = await startTask(env.client, queues.task, taskInput({ hitlEnabled: true }));
        await pendingApproval(handle, 'plan');
        await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
        const stuck = await pendingApproval(handle, 'stuck');
        expect(stuck.context).toContain('Stuck after 3 iterations');
        expect(stuck.context).toContain('expected 400, got 200');
        await handle.executeUpdate(decideUpdate, { args: [{ approved, checkpoint: 'stuck' }] });
        if (approved) {
          await pendingApproval(handle, 'pr');
          await handle.executeUpdate(decideUpdate, { args: [{ approved: true }] });
          expect((await handle.result()).iterations).toBe(4);
        } else {
          const failure = await failureOf(handle.result());
          expect(failure.type).toBe(FailureType.Stuck);
          expect(failure.message).toBe('Escalated to human after stuck detection');
        }
      });
    }
  });
});

describe('cancellation', () => {
  it.each(['cancelTask signal', 'handle.cancel()'] as const)(
    'by %s stops the running activity and ends in phase cancelled',
    async (how) => {
      const fake = createTestActivities({ delays: { generateCode: 60_000 } });
      await withWorkers(env, fake.activities, async ({ queues }) => {
        const handle = await startTask(env.client, queues.task, taskInput());
        await waitFor(async () => (fake.count('generateCode') > 0 ? true : undefined), 'generateCode to start');
        if (how === 'handle.cancel()') await handle.cancel();
        else await handle.signal(cancelTaskSignal, { reason: 'changed my mind', requestedBy: 'ana' });
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        expect(fake.cancelled).toEqual(['generateCode']);
        const state = await stateOf(handle);
        expect(state.phase).toBe('cancelled');
        if (how === 'cancelTask signal') expect(state.failure).toBe('Cancelled by ana: changed my mind');
        expect(fake.count('notifyTaskOutcome')).toBe(1);
        expect((await handle.describe()).status.name).toBe(how === 'handle.cancel()' ? 'CANCELLED' : 'FAILED');
      });
    },
  );
});

describe('budgets', () => {
  it('pauses at the budget checkpoint when tokens run out; extending lets the task finish', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ budget: { maxTotalTokens: 200 } }));
      const request = await pendingApproval(handle, 'budget');
      expect(request.context).toContain('tokens 300 of 200');
      expect(fake.count('generateCode')).toBe(0);
      await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'budget', budget: { maxTotalTokens: 10_000 } }] });
      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect((await stateOf(handle)).budget).toEqual({ maxTotalTokens: 10_000 });
    });
  });

  it('fails with the reason when a human stops the task at the budget checkpoint', async () => {
    const fake = createTestActivities();
    await withWorkers(env, fake.activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ budget: { maxTotalTokens: 100 } }));
      await pendingApproval(handle, 'budget');
      await handle.executeUpdate(decideUpdate, { args: [{ approved: false, comment: 'too expensive' }] });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(FailureType.BudgetExceeded);
      expect(failure.message).toBe('Stopped at budget checkpoint (tokens 150 of 100): too expensive');
    });
  });
});
