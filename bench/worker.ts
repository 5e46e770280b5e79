/**
 * The benchmark's worker process, separate so that its RSS is its own and it can be SIGKILLed:
 * the crash tests' worker (test/fixtures/test-worker.ts: ADO's pools, default tuning, instant
 * test activities) plus `benchNoop` on every queue for the bare workflow, on the runtime `ado
 * worker` installs — Prometheus metrics on (a free port), so the workflow's metrics are recorded.
 * Configured by environment:
 *   TEMPORAL_ADDRESS, ADO_TASK_QUEUE_PREFIX, ADO_WORKFLOW_BUNDLE (the bench bundle),
 *   FAKE_SCRIPT (JSON FakeScript, optional)
 * Prints "ready" on stdout when polling.
 */
import { createLogger } from '../src/telemetry/logger';
import { installTelemetryRuntime } from '../src/telemetry/runtime';
import { freePort } from '../src/temporal/ports';
import { serve } from '../test/fixtures/test-worker';
import type { BenchActivities } from './workflows';

const benchActivities: BenchActivities = { benchNoop: async () => {} };

async function main(): Promise<void> {
  if (!process.env.ADO_WORKFLOW_BUNDLE) throw new Error('ADO_WORKFLOW_BUNDLE must name the bench workflow bundle (bench/workflows.ts).');
  installTelemetryRuntime(createLogger({ level: process.env.ADO_LOG_LEVEL ?? 'warn', pretty: false }), { host: '127.0.0.1', port: await freePort() });
  await serve(benchActivities);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
