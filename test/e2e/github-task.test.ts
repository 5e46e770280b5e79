/**
 * A user's GitHub task, whole, as it runs in production: a private repository on "GitHub" (a
 * double of its REST API plus git's real smart-HTTP backend, behind GitHub's token check), the
 * task workflow on a Temporal dev server, the real activities and sandbox, the model over HTTP,
 * and the pull-request provider chosen by the repository with no switch. Then the configurations
 * that cannot work: each fails when the task starts, before any model call, saying what to set.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { FailureType } from '../../src/domain/errors';
import { createLlmClient } from '../../src/llm/config';
import { createPullRequestProvider, type PrConfig } from '../../src/pr/config';
import { createSandbox } from '../../src/sandbox';
import { silentLogger } from '../../src/telemetry/logger';
import { useGitCredentials } from '../../src/worker/wiring';
import { git } from '../../src/workspace/git';
import { GitRemotes } from '../../src/workspace/remotes';
import { WarmWorkspaces } from '../../src/workspace/warm';
import { FakeGitHub, READ_ONLY_TOKEN, TOKEN } from '../fakes/github-double';
import { createRepository, openRealParts, type RealParts } from '../helpers/real-task';
import { startLocalEnv, withWorkers } from '../helpers/temporal';
import { failureOf, startTask, stateOf, taskInput } from '../helpers/workflow';
import { startModelDouble, writeDirective, type ModelDouble } from '../topology/model-double';

let env: TestWorkflowEnvironment;
let parts: RealParts;
let github: FakeGitHub;
let model: ModelDouble;
let gitRemotes: string;
let cache: string;

beforeAll(async () => {
  env = await startLocalEnv();
  parts = await openRealParts();
  model = await startModelDouble();
  const source = await createRepository(path.join(parts.work, 'source'), { 'README.md': '# app\n', '.ado.yml': 'gates:\n  test: "test -f notes/github.txt"\n' });
  github = new FakeGitHub(path.join(parts.work, 'github'));
  await git(['clone', '--quiet', '--bare', source, github.repoDir]);
  await github.start();
  gitRemotes = path.join(parts.work, 'git');
  cache = await mkdtemp(path.join(os.tmpdir(), 'ado-github-cache-'));
});
afterAll(async () => {
  useGitCredentials({ gitRemotes, gitCache: cache, workspaces: '', taskQueuePrefix: '' }, { provider: 'local', apiUrl: 'https://api.github.com' });
  await github?.stop();
  await model?.close();
  await parts?.close();
  await env?.teardown();
});

/** The worker's wiring for `pr` (as the environment would give it), with the model counting its answers. */
function activitiesFor(pr: PrConfig) {
  useGitCredentials({ gitRemotes, gitCache: cache, workspaces: '', taskQueuePrefix: '' }, pr);
  const logger = silentLogger();
  const endpoint = { baseUrl: model.url, apiKey: '', model: 'model-double' };
  return createActivities({
    logger,
    llm: createLlmClient({ provider: 'openai', endpoints: { planner: endpoint, coder: endpoint }, timeoutMs: 30_000, maxRetries: 0 }, { logger }),
    store: parts.store,
    notifiers: [],
    sandbox: createSandbox({ backend: 'bubblewrap', logger }),
    remotes: new GitRemotes({ root: gitRemotes, logger }),
    scratchDir: path.join(parts.work, 'scratch'),
    workspaces: new WarmWorkspaces({ root: path.join(parts.work, 'scratch', 'warm'), logger }),
    pullRequests: createPullRequestProvider(pr, { store: parts.store.pullRequests, logger }),
  });
}

const answersFor = (file: string) => model.answers.filter((a) => a.file === file).length;

describe('a task on a private GitHub repository', () => {
  it('imports with the token, pushes the task branch and opens the pull request on GitHub, with no provider switch', async () => {
    const repository = github.pushUrl;
    await withWorkers(env, activitiesFor({ provider: 'auto', token: TOKEN, apiUrl: github.apiUrl }), async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ repository, prompt: `Add a note. ${writeDirective('notes/github.txt')}`, maxIterations: 2 }));
      await handle.result();
      const state = await stateOf(handle);

      expect(state.phase).toBe('completed');
      expect(state.pullRequest).toMatchObject({ provider: 'github', number: 1, baseBranch: 'main', headBranch: `ado/${state.taskId}`, merged: false });
      // The branch is on GitHub with the model's file; the pull request was opened once.
      expect(await git(['show', `refs/heads/ado/${state.taskId}:notes/github.txt`], { cwd: github.repoDir })).toBe('notes/github.txt');
      expect(github.requests.filter((r) => r.method === 'POST')).toEqual([
        expect.objectContaining({ path: '/api/v3/repos/acme/app/pulls', body: expect.objectContaining({ head: `ado/${state.taskId}`, base: 'main' }) }),
      ]);
      // Every git request carried the token (the repository refuses anyone else: the import needed it).
      expect(new Set(github.gitAuthorizations)).toEqual(new Set([`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`]));
    });
  });
});

describe('GitHub configurations that cannot work fail at task start, before any model call', () => {
  async function failsAtStart(pr: PrConfig, repository: string, file: string) {
    return withWorkers(env, activitiesFor(pr), async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ repository, prompt: `Add a note. ${writeDirective(file)}`, maxIterations: 1 }));
      const failure = await failureOf(handle.result());
      expect(answersFor(file)).toBe(0);
      return failure;
    });
  }

  it('no token for a GitHub repository: set GITHUB_TOKEN', async () => {
    const failure = await failsAtStart({ provider: 'auto', apiUrl: github.apiUrl }, github.pushUrl, 'notes/no-token.txt');
    expect(failure.type).toBe(FailureType.InvalidConfig);
    expect(failure.message).toContain('no GITHUB_TOKEN is configured: set GITHUB_TOKEN');
  });

  it('a token that may not push: give it contents:write', async () => {
    const failure = await failsAtStart({ provider: 'auto', token: READ_ONLY_TOKEN, apiUrl: github.apiUrl }, github.pushUrl, 'notes/read-only.txt');
    expect(failure.type).toBe(FailureType.InvalidConfig);
    expect(failure.message).toContain('GITHUB_TOKEN may read acme/app but not push to it');
  });

  it('a local path with the GitHub provider: give a GitHub URL', async () => {
    const local = await createRepository(path.join(parts.work, 'local-app'), { 'README.md': '# local\n' });
    const failure = await failsAtStart({ provider: 'github', token: TOKEN, apiUrl: github.apiUrl }, local, 'notes/local.txt');
    expect(failure.type).toBe(FailureType.InvalidConfig);
    expect(failure.message).toContain('needs the task\'s repository on GitHub');
  });

  it('a token GitHub refuses: set a valid GITHUB_TOKEN', async () => {
    const failure = await failsAtStart({ provider: 'auto', token: 'ghp_revoked_token_000000', apiUrl: github.apiUrl }, github.pushUrl, 'notes/refused.txt');
    expect(failure.type).toBe(FailureType.InvalidConfig);
    expect(failure.message).toMatch(/GitHub answered 401: Bad credentials\. Set GITHUB_TOKEN/);
  });
});
