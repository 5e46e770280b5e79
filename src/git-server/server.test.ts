import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { InMemoryPullRequests } from '../../test/fakes/in-memory-pull-requests';
import { createRepo, useGitTestFolder } from '../../test/helpers/git-repos';
import { LocalPullRequestProvider } from '../pr/local';
import { git, gitOrNull } from '../workspace/git';
import { GitRemotes } from '../workspace/remotes';
import { authorizationHeader, configureSharedRemotes } from '../workspace/shared-remote';
import { Workspace } from '../workspace/workspace';
import { startGitServer, type RunningGitServer } from './server';

const TOKEN = 'test-token-0123456789abcdef';
const work = useGitTestFolder('git-server');
let server: RunningGitServer;

/** What a worker's wiring does with ADO_GIT_REMOTES_CREDENTIALS: a header for the server's URL only. */
function useCredentials(credential: string | undefined, cache: string): void {
  configureSharedRemotes({ cacheRoot: cache, credentials: credential ? [{ urlPrefix: `${server.url}/`, header: authorizationHeader(credential) }] : [] });
}

beforeAll(async () => {
  server = await startGitServer({ root: path.join(work(), 'served'), token: TOKEN });
});
afterAll(async () => {
  configureSharedRemotes({ cacheRoot: path.join(work(), 'cache'), credentials: [] });
  await server.close();
});

describe('the git server with URL shared remotes', () => {
  it('carries a task from import to pull request between workers that share no folder', async () => {
    const repo = path.join(work(), 'app');
    const base = await createRepo(repo, { 'a.txt': 'one\n' });

    // "Worker" 1 imports and creates the task branch, with its own cache.
    useCredentials(TOKEN, path.join(work(), 'cache-1'));
    const imported = await new GitRemotes({ root: server.url }).importRepository(repo, 'main');
    expect(imported.remote).toMatch(new RegExp(`^${server.url}/app-[0-9a-f]{12}\\.git$`));
    expect(imported.baseSha).toBe(base);
    await new GitRemotes({ root: server.url }).ensureTaskBranch(imported.remote, 'ado/t1', base);

    // "Worker" 2 checks out by sha, commits and pushes, with another cache.
    useCredentials(TOKEN, path.join(work(), 'cache-2'));
    const ws = await Workspace.checkout({ repository: repo, remote: imported.remote, sha: base }, path.join(work(), 'scratch-2'));
    await writeFile(path.join(ws.dir, 'a.txt'), 'two\n');
    const head = await ws.commitAndPush({ branch: 'ado/t1', message: 'ado(t1): iteration 1' });
    await ws.dispose();

    // "Worker" 3 opens and merges the pull request.
    useCredentials(TOKEN, path.join(work(), 'cache-3'));
    const provider = new LocalPullRequestProvider({ store: new InMemoryPullRequests() });
    const pr = await provider.open({ taskId: 't1', repo: { repository: repo, remote: imported.remote, sha: head }, baseBranch: 'main', headBranch: 'ado/t1', title: 'T', description: 'D' });
    const merged = await provider.merge(pr);
    expect(merged.merged).toBe(true);

    // What the server holds, read from its folder.
    const served = path.join(work(), 'served', path.basename(imported.remote));
    expect(await git(['rev-parse', 'refs/heads/ado/t1'], { cwd: served })).toBe(head);
    expect(await git(['show', 'refs/heads/main:a.txt'], { cwd: served })).toBe('two');
  });

  it('refuses a wrong token, and says which setting to fix', async () => {
    useCredentials('wrong-token-0123456789abcd', path.join(work(), 'cache-wrong'));
    const repo = path.join(work(), 'refused');
    await createRepo(repo, { 'a.txt': 'x\n' });
    const err = await new GitRemotes({ root: server.url }).importRepository(repo, 'main').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((err as Error).message).toContain('ADO_GIT_REMOTES_CREDENTIALS');
  });

  it('answers 401 without a token and 404 outside the repository paths', async () => {
    expect((await fetch(`${server.url}/x.git/info/refs?service=git-upload-pack`)).status).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${server.url}/../etc/info/refs`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/a/b.git/info/refs?service=git-upload-pack`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/.hidden.git/info/refs?service=git-upload-pack`, { headers: auth })).status).toBe(404);
    // Nothing was created for the refused requests.
    expect(await gitOrNull(['rev-parse', '--git-dir'], { cwd: path.join(work(), 'served', 'x.git') })).toBeNull();
  });
});
