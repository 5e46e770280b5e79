/**
 * Metrics and logs of real tasks: a real Temporal server, workers in this process whose runtime
 * serves Prometheus metrics, `/metrics` scraped over HTTP; the JSON log lines captured from the
 * logger the runtime writes to.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdoActivities } from '../../src/activities/interfaces';
import { workspaceQueue } from '../../src/domain/task';
import { exposedNames, METRICS } from '../../src/telemetry/metric-catalog';
import { startQueueDepthMonitor } from '../../src/telemetry/queue-depth';
import { installTelemetryRuntime } from '../../src/telemetry/runtime';
import { startWorkerGauges } from '../../src/telemetry/worker-gauges';
import { freePort } from '../../src/temporal/ports';
import { decideUpdate, humanApprovalSignal } from '../../src/workflows/messages';
import { PROCESS_WORKER_ID } from '../../src/workspace/warm';
import { taskExecutionWorkflow } from '../../src/workflows/task-execution.workflow';
import { createTestActivities } from '../fakes/test-activities';
import { capturingLogger } from '../helpers/logger';
import { startLocalEnv, withWorkers } from '../helpers/temporal';
import { failureOf, pendingApproval, startTask, taskInput, waitFor } from '../helpers/workflow';

const { logger, lines: logLines } = capturingLogger();

let metricsUrl: string;
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  // Before any helper: the helpers' own runtime (no metrics) then leaves this one in place.
  metricsUrl = installTelemetryRuntime(logger, { host: '127.0.0.1', port: await freePort() }).metricsUrl!;
  env = await startLocalEnv();
});
afterAll(async () => {
  await env?.teardown();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(): Promise<Sample[]> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`Not a Prometheus sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample of `name` whose labels include `labels` (undefined when none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes until `ready` holds (workflow metrics reach the meter after their activation). */
function scrapeUntil(ready: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return waitFor(async () => {
    const samples = await scrape();
    return ready(samples) ? samples : undefined;
  }, what);
}

describe('metrics and logs of a task run to completion', () => {
  it("serves the design's metrics and ADO metrics with the values the tasks imply, and logs with task ids", async () => {
    const usage = { promptTokens: 100, completionTokens: 50, totalTokens: 150, costUsd: 0.002 };
    // Iteration 1 fails the test gate, iteration 2 passes: green after 2 iterations.
    const fake = createTestActivities({ usage, gateFailures: [[{ tool: 'test', message: 'expected 400, got 200' }]] });
    let generateAttempts = 0;
    const activities: AdoActivities = {
      ...fake.activities,
      // One failed attempt (retried by Temporal): the SDK logs "Activity failed" for it.
      generateCode: (input) => (++generateAttempts === 1 ? Promise.reject(new Error('model endpoint hiccup')) : fake.activities.generateCode(input)),
    };

    await withWorkers(env, activities, async ({ queues, prefix }) => {
      const namespace = env.namespace ?? 'default';
      const gauges = startWorkerGauges({ connection: env.nativeConnection, namespace, pool: 'all', queuePrefix: prefix, workflowType: taskExecutionWorkflow.name, logger, intervalMs: 200 });
      // A queue nobody serves, holding one workflow task: its depth must read 1.
      const idleQueue = `${prefix}idle`;
      const idle = await env.client.workflow.start('nobodyRunsThis', { taskQueue: idleQueue, workflowId: `${prefix}idle` });
      const idleDepth = startQueueDepthMonitor({
        connection: env.nativeConnection,
        namespace,
        queues: [{ name: idleQueue, types: ['workflow'] }],
        meter: Runtime.instance().metricMeter,
        intervalMs: 200,
        logger,
      });
      try {
        // A task whose input is invalid fails at once, in the workflow.
        const invalid = taskInput({ prompt: '' });
        expect((await failureOf((await startTask(env.client, queues.task, invalid)).result())).type).toBe('InvalidInput');

        const input = taskInput({ hitlEnabled: true });
        const handle = await startTask(env.client, queues.task, input);
        await pendingApproval(handle, 'plan');
        await scrapeUntil((s) => valueOf(s, 'ado_tasks_by_phase', { task_queue: queues.task, phase: 'planning' }) === 1, 'one task counted in planning');
        // A decision for a checkpoint that is not pending: the workflow logs that it ignored it.
        await handle.signal(humanApprovalSignal, { approved: true, checkpoint: 'pr' });
        await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'plan', reviewer: 'ana' }] });
        await pendingApproval(handle, 'pr');
        await handle.executeUpdate(decideUpdate, { args: [{ approved: true, checkpoint: 'pr', reviewer: 'ana' }] });
        expect(await handle.result()).toMatchObject({ status: 'completed', iterations: 2 });

        // ADO's workflow and activity metrics carry the TypeScript SDK's tags (taskQueue); the
        // core's metrics and the monitors' gauges carry task_queue.
        const byTask = { taskQueue: queues.task };
        const sdk = { task_queue: queues.task, workflow_type: 'taskExecutionWorkflow' };
        const samples = await scrapeUntil(
          (s) =>
            valueOf(s, 'ado_task_tokens_count', byTask) === 1 &&
            // The SDK core counts a completion a moment after the result reaches the client.
            valueOf(s, 'ado_temporal_workflow_completed_total', sdk) === 1 &&
            valueOf(s, 'ado_tasks_by_phase', { task_queue: queues.task, phase: 'review' }) === 0 &&
            valueOf(s, 'ado_tasks_by_phase', { task_queue: queues.task, phase: 'planning' }) === 0 &&
            valueOf(s, 'ado_temporal_workflow_task_queue_depth', { task_queue: idleQueue, type: 'workflow' }) === 1,
          'the metrics of the finished tasks',
        );

        // The design's four (docs/architecture.md).
        expect(valueOf(samples, 'ado_temporal_workflow_completed_total', sdk)).toBe(1);
        expect(valueOf(samples, 'ado_temporal_workflow_failed_total', sdk)).toBe(1);
        // Two iterations, and the failed attempt: every execution is timed.
        // The tree work runs on the queue of the worker holding the task's warm workspace.
        const onWorkspace = workspaceQueue(prefix, PROCESS_WORKER_ID);
        expect(valueOf(samples, 'ado_temporal_activity_execution_latency_count', { task_queue: onWorkspace, activity_type: 'generateCode' })).toBe(3);
        for (const [queue, type] of [[queues.task, 'workflow'], [queues.task, 'activity'], [queues.code, 'activity'], [queues.review, 'activity']] as const) {
          expect(valueOf(samples, 'ado_temporal_workflow_task_queue_depth', { task_queue: queue, type }), `${queue} ${type}`).toBe(0);
        }

        // ADO's own: iterations to green, gates, tokens and cost, approval waits, phases.
        expect(valueOf(samples, 'ado_iterations_to_green_count', byTask)).toBe(1);
        expect(valueOf(samples, 'ado_iterations_to_green_sum', byTask)).toBe(2);
        expect(valueOf(samples, 'ado_iterations_to_green_bucket', { ...byTask, le: '1' })).toBe(0);
        expect(valueOf(samples, 'ado_gate_runs_total', { taskQueue: onWorkspace, gate: 'test', result: 'fail' })).toBe(1);
        expect(valueOf(samples, 'ado_gate_runs_total', { taskQueue: onWorkspace, gate: 'test', result: 'pass' })).toBe(1);
        expect(valueOf(samples, 'ado_gate_runs_total', { taskQueue: onWorkspace, gate: 'lint', result: 'pass' })).toBe(2);
        expect(valueOf(samples, 'ado_gate_runs_total', { taskQueue: onWorkspace, gate: 'lint', result: 'fail' })).toBeUndefined();
        const tokens = (role: string) => samples.filter((s) => s.name === 'ado_llm_tokens_total' && s.labels.role === role && s.labels.taskQueue?.startsWith(prefix));
        expect(tokens('planner').reduce((sum, s) => sum + s.value, 0)).toBe(300); // plan + decompose
        expect(tokens('coder').reduce((sum, s) => sum + s.value, 0)).toBe(300); // two iterations; the failed attempt reported none
        expect(valueOf(samples, 'ado_task_tokens_sum', { ...byTask, outcome: 'completed' })).toBe(600);
        expect(valueOf(samples, 'ado_task_cost_usd_sum', { ...byTask, outcome: 'completed' })).toBeCloseTo(0.008, 9);
        for (const checkpoint of ['plan', 'pr']) {
          expect(valueOf(samples, 'ado_approval_wait_seconds_count', { ...byTask, checkpoint, outcome: 'approved' }), checkpoint).toBe(1);
        }
        const phases = Object.fromEntries(
          samples.filter((s) => s.name === 'ado_task_phase_transitions_total' && s.labels.taskQueue === queues.task).map((s) => [s.labels.phase, s.value]),
        );
        expect(phases).toEqual({ planning: 1, decomposing: 1, coding: 2, testing: 2, review: 1, completed: 1 });

        // Every metric ADO itself emits is served under its catalogued name.
        const served = new Set(samples.map((s) => s.name));
        for (const spec of METRICS.filter((m) => m.source !== 'sdk')) expect(exposedNames(spec).filter((n) => !served.has(n)), spec.name).toEqual([]);

        // Logs: the workflow's and the SDK's activity lines name the task and its workflow.
        const ofTask = logLines.filter((l) => l.workflowId === input.taskId);
        expect(ofTask.find((l) => l.msg === 'Ignored humanApproval signal')).toMatchObject({ taskId: input.taskId, workflowType: 'taskExecutionWorkflow' });
        expect(ofTask.find((l) => l.msg === 'Activity failed')).toMatchObject({
          taskId: input.taskId,
          activityType: 'generateCode',
          error: expect.objectContaining({ message: 'model endpoint hiccup' }),
        });
        expect(ofTask.filter((l) => l.taskId !== input.taskId)).toEqual([]);
      } finally {
        await Promise.all([gauges.stop(), idleDepth.stop()]);
        await idle.terminate();
      }
    });
  });
});
