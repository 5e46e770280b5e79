/**
 * The core promise, for real: the worker process is SIGKILLed mid-activity and while the task
 * waits for a human, the dev server itself is stopped mid-task; each time the task completes and
 * every step that had completed before the crash ran exactly once (counted in files).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADO_SEARCH_ATTRIBUTES } from '../src/domain/search-attributes';
import { taskQueues } from '../src/domain/task';
import { locateBinary, TEMPORAL_CLI } from '../src/temporal/binaries';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { freePort } from '../src/temporal/ports';
import { decideUpdate } from '../src/workflows/messages';
import type { FakeScript } from './fakes/test-activities';
import { startTsProcess, type TestProcess } from './helpers/processes';
import { count, lines } from './helpers/side-effects';
import { uniqueTaskId } from './helpers/temporal';
import { pendingApproval, startTask, taskInput, waitFor } from './helpers/workflow';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ado-crash-'));
let server: DevServer;
let port: number;
let client: Client;
const processes: TestProcess[] = [];

async function startServer(): Promise<DevServer> {
  return startDevServer({
    binary: await locateBinary(TEMPORAL_CLI),
    dbFile: path.join(dir, 'temporal.db'),
    port,
    uiPort: false,
    namespace: 'default',
    searchAttributes: ADO_SEARCH_ATTRIBUTES,
  });
}

beforeAll(async () => {
  port = await freePort();
  server = await startServer();
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await client?.connection.close();
  await server?.stop();
});

function files(label: string) {
  return { sideEffectsFile: path.join(dir, `${label}.done`), startsFile: path.join(dir, `${label}.starts`) };
}

async function worker(prefix: string, script: FakeScript): Promise<TestProcess> {
  const p = await startTsProcess('test/fixtures/test-worker.ts', {
    TEMPORAL_ADDRESS: server.address,
    ADO_TASK_QUEUE_PREFIX: prefix,
    FAKE_SCRIPT: JSON.stringify(script),
  });
  processes.push(p);
  return p;
}

describe('crash safety', () => {
  it('a worker killed in the middle of an activity: a fresh worker finishes the task, completed steps ran once', async () => {
    const prefix = `${uniqueTaskId('crash-a')}-`;
    const f = files('crash-a');
    const first = await worker(prefix, { ...f, delays: { generateCode: 120_000 } });
    const handle = await startTask(client, taskQueues(prefix).task, taskInput());
    await waitFor(async () => (lines(f.startsFile).includes('start:generateCode') ? true : undefined), 'generateCode to start');
    await first.kill();

    await worker(prefix, f); // no delays: the retried generateCode completes at once
    const result = await handle.result();
    expect(result.status).toBe('completed');

    for (const step of ['prepareWorkspace', 'planTask', 'decomposeTask', 'generateCode', 'executeCode', 'runQualityGates', 'createPullRequest']) {
      expect(count(f.sideEffectsFile, step), step).toBe(1);
    }
    // The killed attempt started, never completed, and was retried once.
    expect(count(f.startsFile, 'start:generateCode')).toBe(2);
    expect(count(f.startsFile, 'start:planTask')).toBe(1);
  });

  it('five workers killed during one runQualityGates: a dead worker is not the task\'s fault, the task completes', { timeout: 400_000 }, async () => {
    const prefix = `${uniqueTaskId('crash-d')}-`;
    const f = files('crash-d');
    const handle = await startTask(client, taskQueues(prefix).task, taskInput());
    // More kills than the retry policy's 3 attempts: each costs a heartbeat timeout (20 s).
    for (let kill = 1; kill <= 5; kill++) {
      const doomed = await worker(prefix, { ...f, delays: { runQualityGates: 600_000 } });
      await waitFor(async () => (count(f.startsFile, 'start:runQualityGates') === kill ? true : undefined), `runQualityGates attempt ${kill}`, 90_000);
      await doomed.kill();
    }
    await worker(prefix, f);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(count(f.startsFile, 'start:runQualityGates')).toBe(6);
    for (const step of ['prepareWorkspace', 'planTask', 'decomposeTask', 'generateCode', 'runQualityGates', 'createPullRequest']) {
      expect(count(f.sideEffectsFile, step), step).toBe(1);
    }
  });

  it('a worker killed while the task waits for approval: the decision reaches the task through a fresh worker', async () => {
    const prefix = `${uniqueTaskId('crash-b')}-`;
    const f = files('crash-b');
    const first = await worker(prefix, f);
    const handle = await startTask(client, taskQueues(prefix).task, taskInput({ hitlEnabled: true }));
    await pendingApproval(handle, 'plan');
    // Parked for real: the approval request went out and the workflow sleeps in its condition.
    await waitFor(async () => (count(f.sideEffectsFile, 'requestHumanApproval') === 1 ? true : undefined), 'the notification');
    await first.kill();
    await worker(prefix, f);
    await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'plan' }] });
    await pendingApproval(handle, 'pr');
    await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'pr' }] });
    const result = await handle.result();
    expect(result.pullRequest.merged).toBe(true);
    for (const step of ['prepareWorkspace', 'planTask', 'decomposeTask', 'generateCode', 'createPullRequest', 'mergePullRequest']) {
      expect(count(f.sideEffectsFile, step), step).toBe(1);
    }
    expect(count(f.sideEffectsFile, 'requestHumanApproval')).toBe(2);
  });

  it('the dev server stopped mid-task and restarted on the same SQLite file: the task completes', async () => {
    const prefix = `${uniqueTaskId('crash-c')}-`;
    const f = files('crash-c');
    await worker(prefix, { ...f, delays: { generateCode: 3000 } });
    const handle = await startTask(client, taskQueues(prefix).task, taskInput());
    await waitFor(async () => (lines(f.startsFile).includes('start:generateCode') ? true : undefined), 'generateCode to start');

    await server.stop();
    server = await startServer();

    const result = await handle.result();
    expect(result.status).toBe('completed');
    for (const step of ['planTask', 'decomposeTask', 'runQualityGates', 'createPullRequest']) {
      expect(count(f.sideEffectsFile, step), step).toBe(1);
    }
  });
});
