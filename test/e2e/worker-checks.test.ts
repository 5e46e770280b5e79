/**
 * What only a worker can check, checked in the task's first activity before any model call:
 * its model configuration, and the repository's config at the base commit when the pre-flight
 * could not read it (a git URL). Both fail non-retryably with a message that says what to fix.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { AdoActivities } from '../../src/activities/interfaces';
import { AdoError, FailureType, nonRetryable } from '../../src/domain/errors';
import { LocalPullRequestProvider } from '../../src/pr/local';
import { createSandbox } from '../../src/sandbox';
import { silentLogger } from '../../src/telemetry/logger';
import { GitRemotes } from '../../src/workspace/remotes';
import { WarmWorkspaces } from '../../src/workspace/warm';
import { createRepository, openRealParts, realActivities, transcript, type RealParts } from '../helpers/real-task';

let parts: RealParts;
beforeAll(async () => {
  parts = await openRealParts();
});
afterAll(async () => {
  await parts?.close();
});

function prepare(activities: AdoActivities, repository: string) {
  return new MockActivityEnvironment().run(activities.prepareWorkspace, { taskId: 'checks-1', repository, branch: '' });
}

describe('the first activity checks what only a worker knows', () => {
  it('a malformed .ado.yml behind a git URL fails the task at once, naming the file', async () => {
    const repo = await createRepository(path.join(parts.work, 'bad-yaml'), { '.ado.yml': 'gates: [\n' });
    const activities = await realActivities(parts, 'bad-yaml', transcript([]));
    const err = await prepare(activities, `file://${repo}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((err as Error).message).toMatch(/^\.ado\.yml: not valid YAML/);
  });

  it('an unusable model configuration fails it before the repository is even imported', async () => {
    const repo = await createRepository(path.join(parts.work, 'fine'), { 'README.md': 'fine\n' });
    const problem = nonRetryable(FailureType.InvalidConfig, 'LLM configuration: ADO_LLM_BASE_URL must be a URL (got "not-a-url")');
    const remotes = path.join(parts.work, 'git-unusable');
    const logger = silentLogger();
    const activities = createActivities({
      logger,
      llm: { chat: () => Promise.reject(problem), unusable: problem },
      store: parts.store,
      notifiers: [],
      sandbox: createSandbox({ backend: 'bubblewrap', logger }),
      remotes: new GitRemotes({ root: remotes, logger }),
      scratchDir: path.join(parts.work, 'scratch'),
      workspaces: new WarmWorkspaces({ root: path.join(parts.work, 'scratch', 'warm'), logger }),
      pullRequests: new LocalPullRequestProvider({ store: parts.store.pullRequests, logger }),
    });
    await expect(prepare(activities, repo)).rejects.toBe(problem);
    expect(existsSync(remotes)).toBe(false);
  });
});
