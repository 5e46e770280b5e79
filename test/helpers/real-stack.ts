/**
 * The real-task stack for a vitest file (real-task.ts stays free of vitest: worker processes load it).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll } from 'vitest';
import { openRealParts, type RealParts } from './real-task';
import { startLocalEnv } from './temporal';

/** A dev server and real parts for the tests of one file, both closed after them. */
export function useRealTaskStack(): { env: () => TestWorkflowEnvironment; parts: () => RealParts } {
  let env: TestWorkflowEnvironment | undefined;
  let parts: RealParts | undefined;
  beforeAll(async () => {
    env = await startLocalEnv();
    parts = await openRealParts();
  });
  afterAll(async () => {
    await parts?.close();
    await env?.teardown();
  });
  return { env: () => env!, parts: () => parts! };
}

