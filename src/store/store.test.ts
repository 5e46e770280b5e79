import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import type { CheckpointData, TaskPhase } from '../domain/task';
import { freshStoreLocation, type FreshStoreLocation, STORE_DRIVERS } from '../../test/helpers/postgres';
import { openStore } from './open-store';
import { localPullRequestUrl } from './pull-requests';
import type { AdoStore, ApprovalRow, Checkpoint, PullRequestRecord } from './types';

function checkpointData(taskId: string, phase: TaskPhase): CheckpointData {
  return {
    taskId,
    repository: '/srv/repos/app',
    prompt: 'Add input validation to the signup form — “quoted”, ünïcödé, emoji 🚀',
    hitlEnabled: true,
    maxIterations: 10,
    phase,
    plan: '1. validate\n2. test',
    subtasks: [{ id: 's1', title: 'Validate email', description: 'RFC 5322-ish', files: ['src/signup.ts'] }],
    attempts: 2,
    headSha: 'a1b2c3d',
    lastErrors: [{ iteration: 2, tool: 'test', exitCode: 1, message: 'expected 1 to be 2', fingerprint: 'expected N to be N' }],
    usage: { promptTokens: 10, completionTokens: 20, totalTokens: 30, costUsd: 0.0012 },
  };
}

function checkpointOf(taskId: string, phase: TaskPhase, timestamp: Date): Omit<Checkpoint, 'id'> {
  return { taskId, workflowId: taskId, runId: randomUUID(), phase, timestamp, data: checkpointData(taskId, phase) };
}

/** The error a promise rejects with. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

describe.each(STORE_DRIVERS)('ADO store on %s', (driver) => {
  let location: FreshStoreLocation;
  let store: AdoStore;

  beforeAll(async () => {
    location = await freshStoreLocation(driver);
    store = await openStore(location.config);
  });
  afterAll(async () => {
    await store?.close();
    await location?.dispose();
  });

  /** A second worker: another store on the same PostgreSQL database, the same store for PGlite (one process). */
  async function withSecondWorker<T>(use: (other: AdoStore) => Promise<T>): Promise<T> {
    if (driver === 'pglite') return use(store);
    const other = await openStore(location.config);
    try {
      return await use(other);
    } finally {
      await other.close();
    }
  }

  it('reports its driver', () => {
    expect(store.driver).toBe(driver);
  });

  describe('used signatures', () => {
    it('accepts a signature once, for every worker, until it expires; other signatures meanwhile', async () => {
      const signature = `v1=${randomUUID()}`;
      const later = new Date(Date.now() + 60_000);
      expect(await store.usedSignatures.firstUse(signature, later)).toBe(true);
      expect(await store.usedSignatures.firstUse(signature, later)).toBe(false);
      expect(await store.usedSignatures.firstUse(`v1=${randomUUID()}`, later)).toBe(true);
      expect(await withSecondWorker((other) => other.usedSignatures.firstUse(signature, later))).toBe(false);
      const stale = `v1=${randomUUID()}`;
      expect(await store.usedSignatures.firstUse(stale, new Date(Date.now() - 1000))).toBe(true);
      // Past its time it is forgotten (its timestamp is refused before this is asked).
      expect(await store.usedSignatures.firstUse(stale, later)).toBe(true);
    });
  });

  describe('checkpoints', () => {
    it('restores a saved checkpoint with its JSON state intact', async () => {
      const saved = checkpointOf(randomUUID(), 'coding', new Date('2024-05-01T10:05:00.123Z'));
      const id = await store.checkpoints.save(saved);
      expect(await store.checkpoints.restore(id)).toEqual({ id, ...saved });
    });

    it('gives the latest checkpoint by timestamp, not by insertion order', async () => {
      const taskId = randomUUID();
      const later = await store.checkpoints.save(checkpointOf(taskId, 'testing', new Date('2024-05-01T11:00:00Z')));
      await store.checkpoints.save(checkpointOf(taskId, 'planning', new Date('2024-05-01T10:00:00Z')));
      expect((await store.checkpoints.getLatest(taskId))?.id).toBe(later);
    });

    it('breaks timestamp ties by insertion order', async () => {
      const taskId = randomUUID();
      const at = new Date('2024-05-01T12:00:00Z');
      const ids = [];
      for (const phase of ['coding', 'testing', 'review'] as const) ids.push(await store.checkpoints.save(checkpointOf(taskId, phase, at)));
      expect((await store.checkpoints.getLatest(taskId))?.phase).toBe('review');
      expect((await store.checkpoints.list(taskId)).map((c) => c.id)).toEqual(ids);
    });

    it('lists a task’s checkpoints oldest first and no other task’s', async () => {
      const taskId = randomUUID();
      const second = await store.checkpoints.save(checkpointOf(taskId, 'coding', new Date('2024-05-02T00:00:00Z')));
      const first = await store.checkpoints.save(checkpointOf(taskId, 'planning', new Date('2024-05-01T00:00:00Z')));
      await store.checkpoints.save(checkpointOf(randomUUID(), 'planning', new Date('2024-05-01T00:00:00Z')));
      expect((await store.checkpoints.list(taskId)).map((c) => c.id)).toEqual([first, second]);
    });

    it('has no latest checkpoint for a task that saved none', async () => {
      expect(await store.checkpoints.getLatest(randomUUID())).toBeNull();
      expect(await store.checkpoints.list(randomUUID())).toEqual([]);
    });

    it.each([randomUUID(), 'not-a-uuid'])('refuses to restore an unknown id (%s) with a non-retryable error', async (id) => {
      const err = await rejectionOf(store.checkpoints.restore(id));
      expect(err).toBeInstanceOf(AdoError);
      expect(err).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
      expect((err as Error).message).toContain(id);
    });

    it('saves a checkpoint with a given id once, however often it is saved (a retried activity)', async () => {
      const taskId = randomUUID();
      const id = `${taskId}/run/activity-7`;
      const checkpoint = { ...checkpointOf(taskId, 'testing', new Date()), id };
      expect(await store.checkpoints.save(checkpoint)).toBe(id);
      expect(await store.checkpoints.save({ ...checkpoint, phase: 'review' })).toBe(id);
      const all = await store.checkpoints.list(taskId);
      expect(all.map((c) => [c.id, c.phase])).toEqual([[id, 'testing']]);
    });

    it('refuses a checkpoint with an invalid timestamp', async () => {
      const err = await rejectionOf(store.checkpoints.save(checkpointOf(randomUUID(), 'coding', new Date('nonsense'))));
      expect(err).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    });

    it('loses nothing when two workers save 50 checkpoints each at the same time', async () => {
      const taskId = randomUUID();
      const saveMany = (worker: AdoStore, name: string) =>
        Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            const checkpoint = checkpointOf(taskId, 'coding', new Date(Date.UTC(2024, 4, 1, 0, 0, i)));
            checkpoint.runId = `${name}-${i}`;
            return worker.checkpoints.save(checkpoint);
          }),
        );
      const ids = await withSecondWorker((other) => Promise.all([saveMany(store, 'a'), saveMany(other, 'b')]));
      const all = await store.checkpoints.list(taskId);
      expect(new Set(ids.flat()).size).toBe(100);
      expect(all).toHaveLength(100);
      const expectedRuns = Array.from({ length: 50 }, (_, i) => [`a-${i}`, `b-${i}`]).flat();
      expect(new Set(all.map((c) => c.runId))).toEqual(new Set(expectedRuns));
      expect(all.every((c) => c.data.taskId === taskId)).toBe(true);
    });
  });

  describe('tasks', () => {
    const task = (overrides: { taskId?: string; phase?: TaskPhase; repository?: string; runId?: string } = {}) => ({
      taskId: overrides.taskId ?? randomUUID(),
      workflowId: 'wf',
      ...(overrides.runId !== undefined && { runId: overrides.runId }),
      repository: overrides.repository ?? '/srv/repos/app',
      prompt: 'Add validation',
      phase: overrides.phase ?? 'planning',
      hitlEnabled: true,
    });

    it('inserts a task and updates it in place, keeping its creation time', async () => {
      const first = task({ runId: 'run-1' });
      await store.tasks.upsert(first);
      const created = await store.tasks.get(first.taskId);
      expect(created).toMatchObject({ ...first, createdAt: expect.any(Date), updatedAt: expect.any(Date) });

      await store.tasks.upsert({ ...first, phase: 'coding', runId: 'run-2' });
      const updated = await store.tasks.get(first.taskId);
      expect(updated).toMatchObject({ phase: 'coding', runId: 'run-2', createdAt: created?.createdAt });
      expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(created!.updatedAt.getTime());
    });

    it('leaves runId absent when none was given', async () => {
      const t = task();
      await store.tasks.upsert(t);
      expect(await store.tasks.get(t.taskId)).not.toHaveProperty('runId');
    });

    it('finds nothing for an unknown task', async () => {
      expect(await store.tasks.get(randomUUID())).toBeNull();
    });

    it('gets many tasks by id in one call, leaving out unknown ids', async () => {
      const [a, b] = [task({ runId: 'run-a' }), task({ phase: 'coding' })];
      for (const t of [a, b]) await store.tasks.upsert(t);
      const found = await store.tasks.getMany([b.taskId, randomUUID(), a.taskId, a.taskId]);
      expect(found.map((r) => r.taskId).sort()).toEqual([a.taskId, b.taskId].sort());
      expect(found.find((r) => r.taskId === a.taskId)).toEqual(await store.tasks.get(a.taskId));
      expect(await store.tasks.getMany([])).toEqual([]);
      expect(await store.tasks.getMany([randomUUID()])).toEqual([]);
    });

    it('lists tasks newest first, filtered by phase and repository, up to a limit', async () => {
      const repository = `/srv/repos/${randomUUID()}`;
      const planning = task({ repository, phase: 'planning' });
      const coding = [task({ repository, phase: 'coding' }), task({ repository, phase: 'coding' })];
      for (const t of [planning, ...coding]) await store.tasks.upsert(t);
      await store.tasks.upsert(task({ phase: 'coding' }));

      const ids = (records: { taskId: string }[]) => records.map((r) => r.taskId);
      expect(new Set(ids(await store.tasks.list({ repository })))).toEqual(new Set([planning.taskId, ...ids(coding)]));
      expect(new Set(ids(await store.tasks.list({ repository, phase: 'coding' })))).toEqual(new Set(ids(coding)));
      expect(await store.tasks.list({ repository, limit: 2 })).toHaveLength(2);
      const listed = await store.tasks.list({ repository });
      const times = listed.map((r) => r.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it.each([0, -1, 1.5])('refuses a list limit of %s', async (limit) => {
      expect(await rejectionOf(store.tasks.list({ limit }))).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    });
  });

  describe('approvals', () => {
    const approval = (taskId: string, overrides: Partial<ApprovalRow> = {}): ApprovalRow => ({
      requestId: randomUUID(),
      taskId,
      workflowId: taskId,
      checkpoint: 'plan',
      approved: true,
      reviewer: 'alice',
      comment: 'looks good',
      channel: 'cli',
      context: 'The plan: …',
      requestedAt: new Date('2024-05-01T10:00:00Z'),
      decidedAt: new Date('2024-05-01T10:01:00Z'),
      ...overrides,
    });

    it('records a decision once per request id and keeps the first', async () => {
      const taskId = randomUUID();
      const first = approval(taskId);
      expect(await store.approvals.record(first)).toBe(true);
      expect(await store.approvals.record({ ...first, approved: false, reviewer: 'mallory' })).toBe(false);
      expect(await store.approvals.listForTask(taskId)).toEqual([first]);
    });

    it('counts exactly one of two simultaneous records of the same request', async () => {
      const taskId = randomUUID();
      const row = approval(taskId);
      const results = await withSecondWorker((other) => Promise.all([store.approvals.record(row), other.approvals.record({ ...row, reviewer: 'bob' })]));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.approvals.listForTask(taskId)).toHaveLength(1);
    });

    it('lists a task’s decisions in decision order, optional fields absent when not given', async () => {
      const taskId = randomUUID();
      const later = approval(taskId, { checkpoint: 'pr', decidedAt: new Date('2024-05-01T12:00:00Z') });
      const { reviewer: _r, comment: _c, channel: _ch, ...bare } = approval(taskId, { approved: false });
      await store.approvals.record(later);
      await store.approvals.record(bare);
      await store.approvals.record(approval(randomUUID()));
      expect(await store.approvals.listForTask(taskId)).toEqual([bare, later]);
    });
  });

  describe('pull requests', () => {
    const newPr = (remote: string, headBranch: string) => ({
      provider: 'local',
      title: `Task ${headBranch}`,
      description: 'Adds validation',
      baseBranch: 'main',
      headBranch,
      headSha: 'a'.repeat(40),
      merged: false,
      state: 'open' as const,
      taskId: headBranch.replace('ado/', ''),
      repository: '/srv/repos/app',
      remote,
    });
    const uniqueRemote = () => `/srv/ado/git/${randomUUID()}.git`;

    it('numbers PRs from 1 in each remote and gives each a URL', async () => {
      const [one, two] = [uniqueRemote(), uniqueRemote()];
      const a = await store.pullRequests.create(newPr(one, 'ado/a'));
      const b = await store.pullRequests.create(newPr(one, 'ado/b'));
      const c = await store.pullRequests.create({ ...newPr(two, 'ado/a'), url: 'https://forge.example/pr/7' });
      expect([a.number, b.number, c.number]).toEqual([1, 2, 1]);
      expect(a.url).toBe(localPullRequestUrl(one, 1));
      expect(b.url).toBe(localPullRequestUrl(one, 2));
      expect(c.url).toBe('https://forge.example/pr/7');
      expect(a).toMatchObject({ ...newPr(one, 'ado/a'), createdAt: expect.any(Date) });
      expect(await store.pullRequests.get(a.id)).toEqual(a);
    });

    it('returns the existing PR for the same head branch instead of a duplicate, without using up a number', async () => {
      const remote = uniqueRemote();
      const first = await store.pullRequests.create(newPr(remote, 'ado/x'));
      const again = await store.pullRequests.create({ ...newPr(remote, 'ado/x'), title: 'retry' });
      expect(again).toEqual(first);
      expect(await store.pullRequests.findByHead(remote, 'ado/x')).toEqual(first);
      expect((await store.pullRequests.create(newPr(remote, 'ado/y'))).number).toBe(2);
    });

    it('creates one PR when two workers create the same one at once, and numbers the next without a gap', async () => {
      const remote = uniqueRemote();
      const prs = await withSecondWorker((other) =>
        Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).pullRequests.create(newPr(remote, 'ado/same')))),
      );
      expect(new Set(prs.map((p) => p.id)).size).toBe(1);
      expect(prs[0]?.number).toBe(1);
      expect((await store.pullRequests.create(newPr(remote, 'ado/next'))).number).toBe(2);
    });

    it('hands out distinct consecutive numbers to PRs created at once', async () => {
      const remote = uniqueRemote();
      const prs = await withSecondWorker((other) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).pullRequests.create(newPr(remote, `ado/t${i}`)))),
      );
      expect(prs.map((p) => p.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('keeps the diff stats', async () => {
      const stats = { commits: 3, filesChanged: 2, insertions: 40, deletions: 5 };
      const pr = await store.pullRequests.create({ ...newPr(uniqueRemote(), 'ado/s'), stats });
      expect((await store.pullRequests.get(pr.id))?.stats).toEqual(stats);
    });

    it('marks a PR merged once, and again only with the same merge commit', async () => {
      const pr = await store.pullRequests.create(newPr(uniqueRemote(), 'ado/m'));
      const merged = await store.pullRequests.markMerged(pr.id, 'b'.repeat(40));
      expect(merged).toMatchObject({ id: pr.id, state: 'merged', merged: true, mergeSha: 'b'.repeat(40), mergedAt: expect.any(Date) });
      expect(await store.pullRequests.markMerged(pr.id, 'b'.repeat(40))).toEqual(merged);

      const conflict = await rejectionOf(store.pullRequests.markMerged(pr.id, 'c'.repeat(40)));
      expect(conflict).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
      expect((conflict as Error).message).toContain('b'.repeat(40));
    });

    it('refuses to merge an unknown PR', async () => {
      expect(await rejectionOf(store.pullRequests.markMerged(randomUUID(), 'b'.repeat(40)))).toMatchObject({
        type: FailureType.InvalidInput,
        nonRetryable: true,
      });
      expect(await store.pullRequests.get('not-an-id')).toBeNull();
    });

    it('lists a task’s PRs', async () => {
      const taskId = randomUUID();
      const remote = uniqueRemote();
      const made: PullRequestRecord[] = [];
      for (const branch of [`ado/${taskId}`, `ado/${taskId}-2`]) made.push(await store.pullRequests.create({ ...newPr(remote, branch), taskId }));
      expect(await store.pullRequests.listForTask(taskId)).toEqual(made);
    });
  });

  describe('run links', () => {
    it('links runs both ways and stores a retried link once', async () => {
      const [from, to] = [randomUUID(), randomUUID()];
      const link = { fromWorkflowId: from, fromRunId: 'run-1', toWorkflowId: to, toRunId: 'run-2', reason: 'migrate' as const, version: '2' };
      await store.runLinks.add(link);
      await store.runLinks.add(link);
      await store.runLinks.add({ fromWorkflowId: to, toWorkflowId: randomUUID(), reason: 'resume' });
      await store.runLinks.add({ fromWorkflowId: to, toWorkflowId: randomUUID(), reason: 'resume' });

      expect(await store.runLinks.forTask(from)).toEqual([{ ...link, createdAt: expect.any(Date) }]);
      const ofTo = await store.runLinks.forTask(to);
      expect(ofTo.map((l) => l.reason)).toEqual(['migrate', 'resume', 'resume']);
      expect(ofTo[1]).not.toHaveProperty('fromRunId');
      expect(ofTo[1]).not.toHaveProperty('version');
    });

    it('stores a retried link without run ids once', async () => {
      const link = { fromWorkflowId: randomUUID(), toWorkflowId: randomUUID(), reason: 'reset' as const };
      await store.runLinks.add(link);
      await store.runLinks.add(link);
      expect(await store.runLinks.forTask(link.fromWorkflowId)).toHaveLength(1);
    });
  });
});
