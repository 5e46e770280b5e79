/**
 * One way for tests to get a real Temporal server and workers on unique task queues.
 */
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import type { AdoActivities } from '../../src/activities/interfaces';
import { ADO_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { taskQueues, type TaskQueues } from '../../src/domain/task';
import { locateBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../src/temporal/binaries';
import { FAST_DISPATCH_ARGS } from '../../src/temporal/dev-server';
import { createLogger } from '../../src/telemetry/logger';
import { installTemporalRuntime } from '../../src/telemetry/temporal-logger';
import { createWorkers, runWorkers, type WorkerPoolChoice } from '../../src/worker/workers';

/**
 * The Temporal runtime of a test process: SDK logs at WARN into a JSON logger. A test that needs
 * its own runtime (telemetry) installs it before calling any helper here.
 */
export function installTestRuntime(): void {
  installTemporalRuntime(createLogger({ level: process.env.ADO_LOG_LEVEL ?? 'warn', pretty: false }));
}

/** A dev server (real persistence semantics, real timers) on a free loopback port, dispatching as `ado dev`'s does. */
export async function startLocalEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await locateBinary(TEMPORAL_CLI) },
      ip: '127.0.0.1',
      searchAttributes: ADO_SEARCH_ATTRIBUTES,
      extraArgs: ['--headless', '--log-level', 'error', ...FAST_DISPATCH_ARGS],
    },
  });
}

/** The time-skipping test server: a 30-minute timer passes in a moment. */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: await locateBinary(TEMPORAL_TEST_SERVER) } },
  });
  // The test server starts without custom search attributes; the workflow upserts ADO's.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      ADO_SEARCH_ATTRIBUTES.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

export interface WorkerContext {
  env: TestWorkflowEnvironment;
  queues: TaskQueues;
  prefix: string;
}

export interface TestWorkers extends WorkerContext {
  /** Stops the workers and waits until they have stopped. */
  stop(): Promise<void>;
}

/**
 * Starts workers for `pool` serving `activities` on task queues no other test uses, for a whole
 * test file; `workerOptions` go to every worker (a data converter, a workflow bundle...).
 */
export async function startTestWorkers(
  env: TestWorkflowEnvironment,
  activities: Partial<AdoActivities>,
  pool: WorkerPoolChoice = 'all',
  workerOptions?: Partial<WorkerOptions>,
): Promise<TestWorkers> {
  installTestRuntime();
  const prefix = `t${randomUUID().slice(0, 8)}-`;
  const workers: Worker[] = await createWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    pool,
    activities,
    queuePrefix: prefix,
    // Written once by the global setup (test/helpers/global-setup.ts).
    workflowBundle: process.env.ADO_WORKFLOW_BUNDLE,
    workerOptions,
  });
  const running = runWorkers(workers);
  return {
    env,
    prefix,
    queues: taskQueues(prefix),
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}

/** Runs `fn` while test workers (see `startTestWorkers`) serve `activities`. */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  activities: Partial<AdoActivities>,
  fn: (ctx: WorkerContext) => Promise<T>,
  pool: WorkerPoolChoice = 'all',
  workerOptions?: Partial<WorkerOptions>,
): Promise<T> {
  const workers = await startTestWorkers(env, activities, pool, workerOptions);
  try {
    return await fn(workers);
  } finally {
    await workers.stop();
  }
}

/** A task id no other test uses. */
export function uniqueTaskId(label = 'task'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}
