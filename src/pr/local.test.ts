import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RepoRef } from '../domain/repo-ref';
import { AdoError, FailureType } from '../domain/errors';
import { InMemoryPullRequests } from '../../test/fakes/in-memory-pull-requests';
import { importedRepo, pushChange as pushChangeIn, useGitTestFolder } from '../../test/helpers/git-repos';
import { git } from '../workspace/git';
import { LocalPullRequestProvider } from './local';

const work = useGitTestFolder('local-pr');
const sharedRemote = (name: string, files: Record<string, string>) => importedRepo(work(), name, files);
const pushChange = (ref: RepoRef, branch: string, files: Record<string, string>) => pushChangeIn(work(), ref, branch, files);

const openInput = (repo: RepoRef, headBranch: string) => ({
  taskId: 't1',
  repo,
  baseBranch: 'main',
  headBranch,
  title: '[ADO] Add greeting',
  description: 'The plan',
});

describe('LocalPullRequestProvider', () => {
  it('records the pull request with diff stats once, and finds it on a second open', async () => {
    const base = await sharedRemote('open', { 'a.txt': 'one\ntwo\nthree\n' });
    const first = await pushChange(base, 'ado/t1', { 'a.txt': 'one\nTWO\nthree\n' });
    const head = await pushChange({ ...base, sha: first }, 'ado/t1', { 'b.txt': 'new\nfile\n' });
    const store = new InMemoryPullRequests();
    const provider = new LocalPullRequestProvider({ store });

    const pr = await provider.open(openInput({ ...base, sha: head }, 'ado/t1'));
    const again = await provider.open(openInput({ ...base, sha: head }, 'ado/t1'));

    expect(pr).toEqual({
      provider: 'local',
      id: store.records[0]?.id,
      number: 1,
      url: `ado://${path.basename(base.remote, '.git')}/pull/1`,
      title: '[ADO] Add greeting',
      baseBranch: 'main',
      headBranch: 'ado/t1',
      headSha: head,
      merged: false,
      stats: { commits: 2, filesChanged: 2, insertions: 3, deletions: 1 },
    });
    expect(again).toEqual(pr);
    expect(store.records).toHaveLength(1);
    expect(store.records[0]).toMatchObject({ description: 'The plan', taskId: 't1', remote: base.remote, state: 'open' });
  });

  it('moves an open pull request to the new head a revision pushed, and merges that head', async () => {
    const base = await sharedRemote('revise', { 'a.txt': 'a\n' });
    const reviewed = await pushChange(base, 'ado/t1', { 'a.txt': 'A\n' });
    const store = new InMemoryPullRequests();
    const provider = new LocalPullRequestProvider({ store });
    const first = await provider.open(openInput({ ...base, sha: reviewed }, 'ado/t1'));
    const revised = await pushChange({ ...base, sha: reviewed }, 'ado/t1', { 'b.txt': 'asked for\n' });

    const pr = await provider.open(openInput({ ...base, sha: revised }, 'ado/t1'));

    expect(pr).toEqual({ ...first, headSha: revised, stats: { commits: 2, filesChanged: 2, insertions: 2, deletions: 1 } });
    expect(store.records).toHaveLength(1);
    await provider.merge(pr);
    expect(await git(['show', 'refs/heads/main:b.txt'], { cwd: base.remote })).toBe('asked for');
  });

  it('refuses a pull request that adds nothing to the base', async () => {
    const base = await sharedRemote('empty', { 'a.txt': 'a\n' });
    const err = await new LocalPullRequestProvider({ store: new InMemoryPullRequests() }).open(openInput(base, 'ado/t1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect((err as Error).message).toContain('Nothing to review');
  });

  it('merges with a merge commit on the base branch, once', async () => {
    const base = await sharedRemote('merge', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const head = await pushChange(base, 'ado/t1', { 'a.txt': 'A\n' });
    // The base moves on meanwhile, without touching the same lines.
    const moved = await pushChange(base, 'main', { 'b.txt': 'B\n' });
    const store = new InMemoryPullRequests();
    const provider = new LocalPullRequestProvider({ store });
    const pr = await provider.open(openInput({ ...base, sha: head }, 'ado/t1'));

    const merged = await provider.merge(pr);

    const mergeSha = await git(['rev-parse', 'refs/heads/main'], { cwd: base.remote });
    expect(merged).toEqual({ ...pr, merged: true });
    expect(store.records[0]).toMatchObject({ state: 'merged', mergeSha });
    expect(await git(['rev-list', '--parents', '-n', '1', mergeSha], { cwd: base.remote })).toBe(`${mergeSha} ${moved} ${head}`);
    expect(await git(['show', `${mergeSha}:a.txt`], { cwd: base.remote })).toBe('A');
    expect(await git(['show', `${mergeSha}:b.txt`], { cwd: base.remote })).toBe('B');
    expect(await git(['log', '-1', '--format=%s', mergeSha], { cwd: base.remote })).toBe('Merge pull request #1 from ado/t1');

    expect(await provider.merge(pr)).toEqual(merged);
    expect(await git(['rev-parse', 'refs/heads/main'], { cwd: base.remote })).toBe(mergeSha);
  });

  it('records a merge an earlier attempt made in git but did not record', async () => {
    const base = await sharedRemote('merge-retry', { 'a.txt': 'a\n' });
    const head = await pushChange(base, 'ado/t1', { 'a.txt': 'A\n' });
    const store = new InMemoryPullRequests();
    const provider = new LocalPullRequestProvider({ store });
    const pr = await provider.open(openInput({ ...base, sha: head }, 'ado/t1'));
    await git(['update-ref', 'refs/heads/main', head], { cwd: base.remote });

    await provider.merge(pr);

    expect(store.records[0]).toMatchObject({ state: 'merged', mergeSha: head });
    expect(await git(['rev-parse', 'refs/heads/main'], { cwd: base.remote })).toBe(head);
  });

  it('reports conflicts as a non-retryable error naming the files, leaving the base alone', async () => {
    const base = await sharedRemote('conflict', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const head = await pushChange(base, 'ado/t1', { 'a.txt': 'from the task\n' });
    const moved = await pushChange(base, 'main', { 'a.txt': 'from someone else\n' });
    const provider = new LocalPullRequestProvider({ store: new InMemoryPullRequests() });
    const pr = await provider.open(openInput({ ...base, sha: head }, 'ado/t1'));

    const err = await provider.merge(pr).catch((e: unknown) => e);

    expect(err).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
    expect((err as Error).message).toBe(
      'Pull request #1 conflicts with main in a.txt; resolve them on ado/t1, or run the task again from the current main',
    );
    expect(await git(['rev-parse', 'refs/heads/main'], { cwd: base.remote })).toBe(moved);
  });
});
