/**
 * Worker memory per parked task: the RSS of a worker process with `count` tasks waiting at the
 * plan approval, less its RSS idle (after one task ran through, so the workflow code is loaded).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { taskQueues } from '../src/domain/task';
import { count as countLines } from '../test/helpers/side-effects';
import { startTask, taskInput, waitFor } from '../test/helpers/workflow';
import { rssBytes } from './proc';
import { atMost, figure, type Section } from './report';
import { newPrefix, type BenchStack } from './stack';

const MiB = 1024 * 1024;
/** Time for the last workflow tasks to finish and memory to stop moving before a reading. */
const SETTLE_MS = 3000;

async function parkTasks(client: Client, queue: string, count: number, doneFile: string): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => startTask(client, queue, taskInput({ hitlEnabled: true }))));
  await waitFor(
    async () => (countLines(doneFile, 'requestHumanApproval') >= count ? true : undefined),
    `${count} tasks to ask for approval`,
    600_000,
  );
}

export async function measureWorkerMemory(stack: BenchStack, count: number): Promise<Section> {
  const prefix = newPrefix('memory');
  const doneFile = path.join(stack.dir, `${prefix}done`);
  const worker = await stack.startWorker(prefix, { sideEffectsFile: doneFile });
  const queue = taskQueues(prefix).task;
  try {
    await (await startTask(stack.client, queue, taskInput())).result();
    await sleep(SETTLE_MS);
    const idle = rssBytes(worker.pid);
    await parkTasks(stack.client, queue, count, doneFile);
    await sleep(SETTLE_MS);
    const parked = rssBytes(worker.pid);
    return {
      name: `worker memory: one worker process (all pools), ${count} tasks parked at the plan approval`,
      figures: [
        figure('RSS idle', idle / MiB, 'MiB'),
        figure(`RSS with ${count} parked tasks`, parked / MiB, 'MiB'),
        figure('per parked task', (parked - idle) / count / MiB, 'MiB', atMost(2, ' MiB')),
      ],
      notes: [],
    };
  } finally {
    await worker.process.kill();
  }
}
