/**
 * OpenTelemetry tracing of a task on a real Temporal server: the spans of the client, the
 * workflow (from inside the sandbox, through the sink) and the activities land in one trace; and
 * turning tracing on does not break the replay of histories recorded without it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskQueues } from '../../src/domain/task';
import { createTracing } from '../../src/telemetry/tracing';
import { createWorkers, runWorkers, workflowBundle } from '../../src/worker/workers';
import { createTestActivities } from '../fakes/test-activities';
import { startLocalEnv, uniqueTaskId } from '../helpers/temporal';
import { startTask, taskInput } from '../helpers/workflow';

const spans = new InMemorySpanExporter();
const tracing = createTracing({ serviceName: 'ado-test', spanProcessor: new SimpleSpanProcessor(spans) });

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  // Tracing's workflow interceptors are not in the prebuilt bundle: bundle while the server starts.
  [env] = await Promise.all([startLocalEnv(), workflowBundle({ extraModules: tracing.worker.workflowModules })]);
});
afterAll(async () => {
  await tracing.shutdown();
  await env?.teardown();
});

describe('tracing', () => {
  it('puts the client, workflow and activity spans of a task in one trace', async () => {
    const namespace = env.namespace ?? 'default';
    const prefix = `${uniqueTaskId('tr')}-`;
    const queues = taskQueues(prefix);
    const client = new Client({ connection: env.connection, namespace, interceptors: tracing.clientInterceptors });
    const workers = await createWorkers({
      connection: env.nativeConnection,
      namespace,
      pool: 'all',
      activities: createTestActivities().activities,
      queuePrefix: prefix,
      tracing: tracing.worker,
    });
    const running = runWorkers(workers);
    try {
      const input = taskInput();
      await (await startTask(client, queues.task, input)).result();
    } finally {
      for (const w of workers) w.shutdown();
      await running;
    }

    const finished = spans.getFinishedSpans();
    const named = (name: string): ReadableSpan => {
      const span = finished.find((s) => s.name === name);
      if (!span) throw new Error(`No span "${name}" among: ${finished.map((s) => s.name).join(', ')}`);
      return span;
    };
    const start = named('StartWorkflow:taskExecutionWorkflow');
    const run = named('RunWorkflow:taskExecutionWorkflow');
    expect(run.parentSpanId).toBe(start.spanContext().spanId);
    for (const activity of ['prepareWorkspace', 'planTask', 'generateCode', 'runQualityGates', 'createPullRequest']) {
      const scheduled = named(`StartActivity:${activity}`);
      const executed = named(`RunActivity:${activity}`);
      expect(scheduled.parentSpanId, activity).toBe(run.spanContext().spanId);
      expect(executed.parentSpanId, activity).toBe(scheduled.spanContext().spanId);
    }
    expect(new Set(finished.map((s) => s.spanContext().traceId))).toEqual(new Set([start.spanContext().traceId]));
    for (const span of [start, run, named('RunActivity:planTask')]) expect(span.resource.attributes['service.name']).toBe('ado-test');
  });

  it('replays the recorded task histories with the tracing interceptors in the workflow code', async () => {
    const dir = path.join(__dirname, '..', 'replay', 'histories');
    const histories = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((file) => ({ workflowId: path.basename(file, '.json'), history: historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))) }));
    expect(histories.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const options = { workflowBundle: await workflowBundle({ extraModules: tracing.worker.workflowModules }), sinks: tracing.worker.sinks };
    for await (const result of Worker.runReplayHistories(options, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
