/**
 * The web console in a real browser (headless Chromium from Debian, driven by playwright-core)
 * against the real API, a real Temporal dev server and a real store (PostgreSQL): a reviewer gives the token
 * once, opens a task waiting for plan approval from the list, approves it, and sees it move on.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities } from '../../test/fakes/test-activities';
import { startLocalEnv, uniqueTaskId, startTestWorkers, type TestWorkers } from '../../test/helpers/temporal';
import { startPostgres, type TestPostgres } from '../../test/helpers/postgres';
import { pendingApproval, stateOf } from '../../test/helpers/workflow';
import { startApiServer, type RunningApi } from '../api/server';
import { HITLHandler } from '../client/hitl-handler';
import { TaskClient } from '../client/task-client';
import { openStore } from '../store';
import type { AdoStore } from '../store/types';
import { silentLogger } from '../telemetry/logger';

const CHROMIUM = process.env.ADO_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const TOKEN = randomBytes(24).toString('hex');

let env: TestWorkflowEnvironment;
let dir: string;
let postgres: TestPostgres;
let store: AdoStore;
let api: RunningApi;
let tasks: TaskClient;
let browser: BrowserContext;
let workers: TestWorkers | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ado-console-'));
  env = await startLocalEnv();
  postgres = await startPostgres();
  store = await openStore({ databaseUrl: postgres.url });
  workers = await startTestWorkers(env, createTestActivities().activities);
  const prefix = workers.prefix;
  tasks = new TaskClient(env.client, prefix);
  api = await startApiServer({
    tasks,
    hitl: new HITLHandler(env.client),
    store,
    auth: { tokens: [{ name: 'reviewer-1', token: TOKEN }] },
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    events: { pollMs: 100 },
  });
  browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await workers?.stop();
  await store?.close();
  await postgres?.stop();
  await env?.teardown();
  await rm(dir, { recursive: true, force: true });
});

describe('web console', () => {
  it('asks for the token once, opens a task waiting for plan approval, approves it and shows the task moving on', async () => {
    const taskId = uniqueTaskId('console');
    await tasks.start({ taskId, prompt: 'Add input validation to the signup form', repository: '/srv/repos/app', branch: 'main', hitlEnabled: true });
    await pendingApproval(tasks.handle(taskId), 'plan');

    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(api.url);
    // The API needs a token: the console asks for it before showing anything.
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Continue' }).click();

    const row = page.locator(`tr[data-task-id="${taskId}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('planning');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-list.png') });
    await row.getByRole('link', { name: taskId }).click();

    const phase = page.getByTestId('task-phase');
    await page.getByTestId('approval').waitFor();
    expect(await phase.textContent()).toBe('planning');
    expect(await page.getByTestId('pending-checkpoint').textContent()).toBe('plan');
    expect(await page.locator('pre.plan').textContent()).toBe('Plan for: Add input validation to the signup form');

    await page.getByPlaceholder(/Comment/).fill('Plan looks right');
    await page.getByTestId('approve').click();

    // The test activities run straight to the pull request, which waits for its own approval.
    await page.locator('[data-testid="task-phase"]', { hasText: 'review' }).waitFor();
    await page.locator('[data-testid="pending-checkpoint"]', { hasText: 'pr' }).waitFor();
    expect(await page.getByTestId('decisions').textContent()).toContain('plan · reviewer-1 via console');
    expect(await page.locator('ol.steps li.done').allTextContents()).toEqual(['planning', 'decomposing', 'coding', 'testing']);

    const state = await stateOf(tasks.handle(taskId));
    expect(state.approvals.map((a) => a.decision)).toEqual([
      expect.objectContaining({ approved: true, reviewer: 'reviewer-1', channel: 'console', comment: 'Plan looks right' }),
    ]);

    await page.screenshot({ path: path.join(ARTIFACTS, 'console-task.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows what runs now, and for how long, on the task page while a phase runs', async () => {
    const doing = 'quality gates: test running (0 of 1 done)';
    const slow = await startTestWorkers(env, createTestActivities({ delays: { runQualityGates: 20_000 }, doing: { runQualityGates: doing } }).activities);
    try {
      const taskId = uniqueTaskId('console-now');
      await new TaskClient(env.client, slow.prefix).start({ taskId, prompt: 'Add a note', repository: '/srv/repos/app', branch: 'main', hitlEnabled: false });
      const page = await browser.newPage();
      await page.goto(`${api.url}/#/tasks/${taskId}`);
      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Continue' }).click();
      const now = page.getByTestId('now');
      await now.filter({ hasText: doing }).waitFor();
      expect(await now.textContent()).toMatch(/quality gates: test running \(0 of 1 done\) for \d+ s/);
      await tasks.handle(taskId).terminate('test done');
    } finally {
      await slow.stop();
    }
  });
});
