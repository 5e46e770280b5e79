/**
 * The benchmark's worker process, separate so that its RSS is its own and it can be SIGKILLed:
 * ADO's worker pools (`createWorkers`, default tuning) serving the instant test activities, plus
 * `benchNoop` on every queue for the bare workflow. Configured by environment:
 *   TEMPORAL_ADDRESS, ADO_TASK_QUEUE_PREFIX, ADO_WORKFLOW_BUNDLE (the bench bundle),
 *   FAKE_SCRIPT (JSON FakeScript, optional)
 * Prints "ready" on stdout when polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createWorkers, runWorkers } from '../src/worker/workers';
import { createTestActivities, type FakeScript } from '../test/fakes/test-activities';
import { installTestRuntime } from '../test/helpers/temporal';
import type { BenchActivities } from './workflows';

const benchActivities: BenchActivities = { benchNoop: async () => {} };

async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  if (!env.ADO_WORKFLOW_BUNDLE) throw new Error('ADO_WORKFLOW_BUNDLE must name the bench workflow bundle (bench/workflows.ts).');
  installTestRuntime();
  const activities = createTestActivities(JSON.parse(env.FAKE_SCRIPT ?? '{}') as FakeScript).activities;
  const workers = await createWorkers({
    connection: await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS }),
    namespace: 'default',
    pool: 'all',
    activities,
    queuePrefix: env.ADO_TASK_QUEUE_PREFIX,
    // Each pool registers every activity: the bare workflow's no-op runs on all three queues.
    workerOptions: { activities: { ...activities, ...benchActivities } },
  });
  const running = runWorkers(workers);
  process.stdout.write('ready\n');
  await running;
}

serve(process.env).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
