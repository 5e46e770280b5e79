import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities, type FakeScript } from '../../test/fakes/test-activities';
import { freshStoreLocation, type FreshStoreLocation } from '../../test/helpers/postgres';
import { startLocalEnv, withWorkers, type WorkerContext } from '../../test/helpers/temporal';
import { failureOf, pendingApproval, stateOf, taskInput } from '../../test/helpers/workflow';
import { createTaskActivities } from '../activities/task.activities';
import type { AdoActivities } from '../activities/interfaces';
import { WorkflowVersion } from '../domain/search-attributes';
import { openStore } from '../store';
import type { AdoStore } from '../store/types';
import { silentLogger } from '../telemetry/logger';
import { decideUpdate } from '../workflows/messages';
import { TaskClient } from './task-client';
import { WorkflowRecovery } from './workflow-recovery';

let env: TestWorkflowEnvironment;
let location: FreshStoreLocation;
let store: AdoStore;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ado-recovery-'));

beforeAll(async () => {
  [env, location] = await Promise.all([startLocalEnv(), freshStoreLocation('postgres')]);
  store = await openStore(location.config);
});
afterAll(async () => {
  await store?.close();
  await location?.dispose();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** Test activities, except that checkpoints and decisions go to the real store. */
function activities(script: FakeScript) {
  const fake = createTestActivities(script);
  const real = createTaskActivities({
    logger: silentLogger(),
    store,
    notifiers: [],
    scratchDir: dir,
    llm: { chat: () => Promise.reject(new Error('no model in this test')) },
  });
  const all: AdoActivities = { ...fake.activities, saveCheckpoint: real.saveCheckpoint, recordApprovalDecision: real.recordApprovalDecision };
  return { fake, all };
}

function tools(ctx: WorkerContext) {
  return { tasks: new TaskClient(env.client, ctx.prefix), recovery: new WorkflowRecovery(env.client, store, ctx.prefix) };
}

describe('WorkflowRecovery.resumeFromCheckpoint', () => {
  it.each(['reset', 'new-run'] as const)(
    'resumes a task whose activity failed non-retryably, once the fault is removed, without planning again (%s)',
    async (strategy) => {
      const faultFile = path.join(dir, `fault-${strategy}`);
      writeFileSync(faultFile, 'broken');
      const { fake, all } = activities({ faultFile, faultActivity: 'runQualityGates' });
      await withWorkers(env, all, async (ctx) => {
        const { tasks, recovery } = tools(ctx);
        const input = taskInput();
        await tasks.start(input);
        const failure = await failureOf(tasks.handle(input.taskId).result());
        expect(failure.type).toBe('InjectedFault');

        rmSync(faultFile);
        const outcome = await recovery.resumeFromCheckpoint(input.taskId, { strategy });
        expect(outcome.action).toBe(strategy);
        expect(outcome.message).toMatch(strategy === 'reset' ? /^Reset / : /plan reused/);

        const result = await tasks.handle(input.taskId).result();
        expect(result.status).toBe('completed');
        expect(fake.count('planTask')).toBe(1);
        expect(fake.count('decomposeTask')).toBe(1);
        const links = await store.runLinks.forTask(input.taskId);
        expect(links).toEqual([expect.objectContaining({ fromWorkflowId: input.taskId, toWorkflowId: input.taskId, reason: strategy === 'reset' ? 'reset' : 'resume' })]);
      });
    },
  );

  it('reports where a running task is, and changes nothing', async () => {
    const { all } = activities({});
    await withWorkers(env, all, async (ctx) => {
      const { tasks, recovery } = tools(ctx);
      const input = taskInput({ hitlEnabled: true });
      await tasks.start(input);
      await pendingApproval(tasks.handle(input.taskId), 'plan');
      const outcome = await recovery.resumeFromCheckpoint(input.taskId);
      expect(outcome).toMatchObject({ action: 'running', phase: 'planning' });
      expect(outcome.message).toContain('waiting for approval at "plan"');
      await tasks.handle(input.taskId).terminate('test done');
    });
  });

  it('says so when the task has no checkpoint', async () => {
    await expect(new WorkflowRecovery(env.client, store).resumeFromCheckpoint('never-ran')).rejects.toThrow('No checkpoint found for task never-ran');
  });
});

describe('WorkflowRecovery.migrateWorkflow', () => {
  it('cancels the old run and starts the new version with the approved plan, linking both runs', async () => {
    const { fake, all } = activities({});
    await withWorkers(env, all, async (ctx) => {
      const { tasks, recovery } = tools(ctx);
      const input = taskInput({ hitlEnabled: true });
      await tasks.start(input);
      const old = tasks.handle(input.taskId);
      await pendingApproval(old, 'plan');
      await old.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      await pendingApproval(old, 'pr');

      const newId = await recovery.migrateWorkflow(input.taskId, 'v2');
      expect(newId).toBe(`${input.taskId}-migrated-v2`);
      expect((await old.describe()).status.name).toBe('CANCELLED');
      const migrated = tasks.handle(newId);
      await pendingApproval(migrated, 'pr'); // the plan is not asked for again
      const state = await stateOf(migrated);
      expect(state).toMatchObject({ taskId: input.taskId, planApproved: true, plan: `Plan for: ${input.prompt}` });
      expect((await migrated.describe()).typedSearchAttributes.get(WorkflowVersion)).toBe('v2');
      await migrated.executeUpdate(decideUpdate, { args: [{ approved: true }] });
      expect((await migrated.result()).status).toBe('completed');
      expect(fake.count('planTask')).toBe(1);
      expect(await store.runLinks.forTask(input.taskId)).toEqual([
        expect.objectContaining({ fromWorkflowId: input.taskId, toWorkflowId: newId, reason: 'migrate', version: 'v2' }),
      ]);
    });
  });
});
