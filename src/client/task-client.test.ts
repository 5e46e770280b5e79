/** TaskClient against a real dev server. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEnv, uniqueTaskId } from '../../test/helpers/temporal';
import { TaskNotFoundError } from './errors';
import { TaskClient } from './task-client';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startLocalEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('TaskClient.follow', () => {
  it('rejects with TaskNotFoundError for an unknown task, and leaves no unhandled rejection behind', async () => {
    const tasks = new TaskClient(env.client);
    const events: unknown[] = [];
    const taskId = uniqueTaskId('missing');
    await expect(tasks.follow(taskId, (event) => events.push(event), 50)).rejects.toBeInstanceOf(TaskNotFoundError);
    expect(events).toEqual([]);
    // The outcome it waited on fails too, a moment later; vitest fails the run if nobody handled that.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  });
});
