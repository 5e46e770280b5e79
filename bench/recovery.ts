/**
 * Recovery: the worker is SIGKILLed while `generateCode` runs; a new worker starts at once. The
 * figure is the new worker's start → task completed, taken apart with the history's event times:
 * the killed attempt is only given up when its heartbeat timeout (20 s, LONG in the workflow)
 * expires, the retry waits the retry policy's first interval (1 s), then the rest runs.
 */
import path from 'node:path';
import { taskQueues } from '../src/domain/task';
import { lines } from '../test/helpers/side-effects';
import { startTask, taskInput, waitFor } from '../test/helpers/workflow';
import { activitiesOf, EventType, eventMs, eventsOfType, historyOf, timestampMs } from './history';
import { figure, type Section } from './report';
import { newPrefix, type BenchStack } from './stack';

const SECOND = 1000;

export async function measureRecovery(stack: BenchStack): Promise<Section> {
  const prefix = newPrefix('recovery');
  const startsFile = path.join(stack.dir, `${prefix}starts`);
  const first = await stack.startWorker(prefix, { startsFile, delays: { generateCode: 120_000 } });
  const handle = await startTask(stack.client, taskQueues(prefix).task, taskInput());
  await waitFor(
    async () => (lines(startsFile).includes('start:generateCode') ? true : undefined),
    'generateCode to start',
  );
  await first.process.kill();
  const killedAt = Date.now();
  const killedAttempt = (await handle.describe()).raw.pendingActivities?.[0];

  const second = await stack.startWorker(prefix, { startsFile });
  await handle.result();
  const completedAt = Date.now();

  const events = await historyOf(handle);
  const retried = activitiesOf(events).find((a) => a.type === 'generateCode');
  if (retried?.startedAt === undefined || retried.completedAt === undefined) throw new Error(`generateCode did not run again in ${handle.workflowId}.`);
  const closedAt = eventMs(eventsOfType(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)[0]!);
  // The heartbeat timeout runs from the last heartbeat the server got, or from the attempt's start.
  const lastSignOfLife = timestampMs(killedAttempt?.lastHeartbeatTime ?? killedAttempt?.lastStartedTime);
  return {
    name: 'recovery: worker SIGKILLed during generateCode, a new worker started at once',
    figures: [
      figure('new worker start → task completed', (completedAt - second.spawnedAt) / SECOND, 's'),
      figure('of which: worker process start → polling', (second.readyAt - second.spawnedAt) / SECOND, 's'),
      figure('killed attempt: last heartbeat → kill', (killedAt - lastSignOfLife) / SECOND, 's'),
      figure('killed attempt: last heartbeat → retry started', (retried.startedAt - lastSignOfLife) / SECOND, 's'),
      figure('retry started → task completed', (closedAt - retried.startedAt) / SECOND, 's'),
    ],
    notes: [
      `retried attempt ${retried.attempt}, after: ${retried.lastFailure ?? 'no failure recorded'}`,
      'last heartbeat → retry = the heartbeat timeout (20 s) + the retry policy\'s first interval (1 s) + dispatch: the new worker is idle until then',
    ],
  };
}
