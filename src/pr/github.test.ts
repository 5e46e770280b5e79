import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoRef } from '../domain/repo-ref';
import { FailureType } from '../domain/errors';
import { FakeGitHub, TOKEN } from '../../test/fakes/github-double';
import { importedRepo, pushChange, useGitTestFolder } from '../../test/helpers/git-repos';
import { capturingLogger } from '../../test/helpers/logger';
import { git } from '../workspace/git';
import { GitHubPullRequestProvider } from './github';
import { parseGitHubRepository } from './github-repository';

const work = useGitTestFolder('github-pr');
let github: FakeGitHub;
/** The task's commit in the shared remote, for repository `acme/app`. */
let task: RepoRef;

beforeAll(async () => {
  const base = await importedRepo(work(), 'app', { 'README.md': '# app\n', 'src/a.ts': 'export const a = 1;\n' });
  github = new FakeGitHub(path.join(work(), 'served'));
  await git(['clone', '--quiet', '--bare', base.repository, github.repoDir]);
  await github.start();
  const sha = await pushChange(work(), base, 'ado/t1', { 'src/a.ts': 'export const a = 2;\n', 'src/b.ts': 'export const b = 1;\n' });
  task = { repository: 'https://github.com/acme/app.git', remote: base.remote, sha };
});
afterAll(() => github.stop());

const openInput = (repo: RepoRef, baseBranch = 'main') => ({
  taskId: 't1',
  repo,
  baseBranch,
  headBranch: 'ado/t1',
  title: '[ADO] Bump a',
  description: 'The plan',
});

describe('GitHubPullRequestProvider', () => {
  it('pushes the head with the token in a header, opens the pull request once, and finds it on a second open', async () => {
    const { logger, text } = capturingLogger('debug');
    const provider = new GitHubPullRequestProvider({ token: TOKEN, apiUrl: github.apiUrl, pushUrl: github.pushUrl, logger });

    const pr = await provider.open(openInput(task));
    const again = await provider.open(openInput(task));

    expect(await git(['rev-parse', 'refs/heads/ado/t1'], { cwd: github.repoDir })).toBe(task.sha);
    expect(github.gitAuthorizations.length).toBeGreaterThan(0);
    expect(new Set(github.gitAuthorizations)).toEqual(new Set([`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`]));
    expect(pr).toEqual({
      provider: 'github',
      id: 'acme/app#1',
      number: 1,
      url: 'https://github.example/acme/app/pull/1',
      title: '[ADO] Bump a',
      baseBranch: 'main',
      headBranch: 'ado/t1',
      headSha: task.sha,
      merged: false,
      stats: { commits: 1, filesChanged: 2, insertions: 2, deletions: 1 },
    });
    expect(again).toEqual(pr);
    expect(github.requests.filter((r) => r.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/v3/repos/acme/app/pulls', body: { head: 'ado/t1', base: 'main', title: '[ADO] Bump a', body: 'The plan' } },
    ]);
    expect(github.requests.some((r) => r.method === 'GET' && r.path.includes('head=acme%3Aado%2Ft1') && r.path.includes('state=all'))).toBe(true);
    expect(text()).not.toContain(TOKEN);

    // Merge: once, for the reviewed head only.
    const merged = await provider.merge(pr);
    expect(merged).toEqual({ ...pr, merged: true });
    expect(await provider.merge(pr)).toEqual(merged);
    expect(github.requests.filter((r) => r.method === 'PUT')).toEqual([
      { method: 'PUT', path: '/api/v3/repos/acme/app/pulls/1/merge', body: { sha: task.sha, merge_method: 'merge' } },
    ]);
  });

  it('rejects a bad token with a clear non-retryable error that does not show the token', async () => {
    const { logger, text } = capturingLogger('debug');
    const provider = new GitHubPullRequestProvider({ token: 'ghp_wrong_token', apiUrl: github.apiUrl, pushUrl: github.pushUrl, logger });
    const info = { provider: 'github', id: 'acme/app#1', number: 1, url: '', title: '', baseBranch: 'main', headBranch: 'ado/t1', headSha: task.sha, merged: false };

    const apiErr = await provider.merge(info).catch((e: unknown) => e);
    expect(apiErr).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((apiErr as Error).message).toBe('Could not read pull request #1 of acme/app: GitHub answered 401: Bad credentials. Set GITHUB_TOKEN to a valid token');

    const pushErr = await provider.open(openInput(task)).catch((e: unknown) => e);
    expect(pushErr).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((pushErr as Error).message).toMatch(
      /^Could not push ado\/t1 to http:\/\/127\.0\.0\.1:\d+\/git\/acme\/app\.git: the credentials were refused \(.+\)\. Set GITHUB_TOKEN to a token that may push to the repository$/s,
    );
    expect(`${(apiErr as Error).message}${(pushErr as Error).message}${text()}`).not.toContain('ghp_wrong_token');
  });

  it('explains a repository GitHub does not know and a base branch it rejects', async () => {
    const provider = new GitHubPullRequestProvider({ token: TOKEN, apiUrl: github.apiUrl, pushUrl: github.pushUrl });

    const missing = await provider.open(openInput({ ...task, repository: 'git@github.com:acme/missing.git' })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
    expect((missing as Error).message).toBe(
      'Could not list pull requests of acme/missing: GitHub answered 404: Not Found. Check the repository URL, and that GITHUB_TOKEN can see the repository',
    );

    const badBase = await provider.open({ ...openInput(task, 'no-such-base'), headBranch: 'ado/t2' }).catch((e: unknown) => e);
    expect(badBase).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect((badBase as Error).message).toBe('Could not open a pull request on acme/app: GitHub answered 422: Validation Failed; base invalid. Check the base and head branches');
  });
});

describe('parseGitHubRepository', () => {
  it.each([
    ['https://github.com/acme/app', 'acme', 'app'],
    ['https://github.com/acme/app.git/', 'acme', 'app'],
    ['git@github.com:acme/my.app.git', 'acme', 'my.app'],
    ['ssh://git@ghe.example.com:2222/team-1/app_2.git', 'team-1', 'app_2'],
  ])('reads %s', (url, owner, repo) => {
    expect(parseGitHubRepository(url)).toEqual({ owner, repo });
  });

  it.each(['/home/me/app', 'https://github.com/acme', 'not a url'])('refuses %s with what to give instead', (url) => {
    expect(() => parseGitHubRepository(url)).toThrow(/Cannot tell the GitHub repository from .*https:\/\/github\.com\/<owner>\/<repo>/);
  });
});
