import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { commitFiles, createRepo, removeDirs, tempDir, useGitTestFolder, writeFiles } from '../../test/helpers/git-repos';
import { capturingLogger } from '../../test/helpers/logger';
import { git, identityEnv } from './git';
import { GitRemotes } from './remotes';

const work = useGitTestFolder('remotes');

async function rejection(promise: Promise<unknown>): Promise<AdoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdoError);
  return err as AdoError;
}

async function freePortWithNothingListening(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('GitRemotes.importRepository', () => {
  it('mirrors a local repository, resolving its current branch when none is given', async () => {
    const repo = path.join(work(), 'My App');
    const sha = await createRepo(repo, { 'README.md': 'hello\n' }, 'trunk');
    const remotes = new GitRemotes({ root: path.join(work(), 'git') });

    const first = await remotes.importRepository(repo, '');
    expect(first.baseBranch).toBe('trunk');
    expect(first.baseSha).toBe(sha);
    expect(path.dirname(first.remote)).toBe(path.join(work(), 'git'));
    expect(path.basename(first.remote)).toMatch(/^My-App-[0-9a-f]{12}\.git$/);
    expect(await git(['rev-parse', '--is-bare-repository'], { cwd: first.remote })).toBe('true');
    expect(await git(['rev-parse', 'refs/heads/trunk'], { cwd: first.remote })).toBe(sha);

    // Importing again is idempotent; after a new commit it follows the repository.
    expect(await remotes.importRepository(repo, 'trunk')).toEqual(first);
    const next = await commitFiles(repo, { 'README.md': 'hello again\n' });
    expect(await remotes.importRepository(repo, '')).toEqual({ ...first, baseSha: next });
  });

  it('uses only committed state of a dirty working tree and says so in the log', async () => {
    const repo = path.join(work(), 'dirty');
    const sha = await createRepo(repo, { 'a.txt': 'committed\n' });
    await writeFiles(repo, { 'a.txt': 'uncommitted\n', 'new.txt': 'untracked\n' });
    const { logger, lines } = capturingLogger();

    const imported = await new GitRemotes({ root: path.join(work(), 'git'), logger }).importRepository(repo, 'main');

    expect(imported.baseSha).toBe(sha);
    expect(await git(['show', `${imported.baseSha}:a.txt`], { cwd: imported.remote })).toBe('committed');
    const warning = lines.find((l) => String(l.msg).includes('uncommitted changes'));
    expect(warning).toMatchObject({ level: 40, changedPaths: 2 });
  });

  it('imports from a git URL and resolves its default branch', async () => {
    const repo = path.join(work(), 'served.git');
    const source = path.join(work(), 'served-src');
    const sha = await createRepo(source, { 'x.txt': 'x\n' }, 'develop');
    await git(['clone', '--quiet', '--bare', source, repo]);

    const imported = await new GitRemotes({ root: path.join(work(), 'git') }).importRepository(`file://${repo}`, '');

    expect(imported).toMatchObject({ baseBranch: 'develop', baseSha: sha });
    expect(path.basename(imported.remote)).toMatch(/^served-[0-9a-f]{12}\.git$/);
  });

  it('keeps commits ADO merged on top of the branch until the repository moves elsewhere', async () => {
    const repo = path.join(work(), 'merges');
    await createRepo(repo, { 'a.txt': '1\n' });
    const remotes = new GitRemotes({ root: path.join(work(), 'git') });
    const { remote, baseSha } = await remotes.importRepository(repo, 'main');
    // What a merged local pull request leaves: a commit on top of main in the shared remote.
    const tree = await git(['rev-parse', `${baseSha}^{tree}`], { cwd: remote });
    const merged = await git(['commit-tree', tree, '-p', baseSha, '-m', 'merge'], { cwd: remote, env: identityEnv() });
    await git(['update-ref', 'refs/heads/main', merged], { cwd: remote });

    expect((await remotes.importRepository(repo, 'main')).baseSha).toBe(merged);

    const diverged = await commitFiles(repo, { 'a.txt': '2\n' });
    expect((await remotes.importRepository(repo, 'main')).baseSha).toBe(diverged);
  });

  it('rejects a folder that is not a git repository or not its root, and a path that does not exist', async () => {
    const plain = await tempDir('plain');
    const remotes = new GitRemotes({ root: path.join(work(), 'git') });
    try {
      const notRepo = await rejection(remotes.importRepository(plain, ''));
      expect(notRepo).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
      expect(notRepo.message).toContain('is not a git repository');
      expect(notRepo.message).toContain('git init');

      const repo = path.join(work(), 'outer');
      await createRepo(repo, { 'sub/a.txt': 'a\n' });
      const inside = await rejection(remotes.importRepository(path.join(repo, 'sub'), ''));
      expect(inside).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
      expect(inside.message).toContain(`lies inside the one at ${repo}`);

      const missing = await rejection(remotes.importRepository(path.join(plain, 'nope'), ''));
      expect(missing).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
      expect(missing.message).toContain('does not exist');
    } finally {
      await removeDirs(plain);
    }
  });

  it('rejects a missing branch, naming the branches there are', async () => {
    const repo = path.join(work(), 'branches');
    await createRepo(repo, { 'a.txt': 'a\n' });
    await git(['branch', 'feature-x'], { cwd: repo });

    const err = await rejection(new GitRemotes({ root: path.join(work(), 'git') }).importRepository(repo, 'nope'));

    expect(err).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect(err.message).toContain('Branch nope not found');
    expect(err.message).toContain('feature-x');
    expect(err.message).toContain('main');
  });

  it('reports a server that does not answer as a retryable repository error (the task start checked it answered)', async () => {
    const port = await freePortWithNothingListening();
    const url = `http://127.0.0.1:${port}/team/app.git`;

    const err = await rejection(new GitRemotes({ root: path.join(work(), 'git') }).importRepository(url, 'main'));

    expect(err).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: false });
    expect(err.message).toContain(`Could not reach repository ${url}`);
  });

  it('reports a repository the server does not have as a non-retryable repository error', async () => {
    const server = createHttpServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/team/missing.git`;
      const err = await rejection(new GitRemotes({ root: path.join(work(), 'git') }).importRepository(url, 'main'));
      expect(err).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
      expect(err.message).toContain(`Cannot read repository ${url}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a repository that is not there as a non-retryable repository error', async () => {
    const url = `file://${path.join(work(), 'no-such-repository.git')}`;

    const err = await rejection(new GitRemotes({ root: path.join(work(), 'git') }).importRepository(url, 'main'));

    expect(err).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
    expect(err.message).toContain(`Cannot read repository ${url}`);
  });
});

describe('GitRemotes.ensureTaskBranch', () => {
  it('creates the task branch once, keeps it on a second call, and moves it only with reset', async () => {
    const repo = path.join(work(), 'task');
    const first = await createRepo(repo, { 'a.txt': '1\n' });
    const second = await commitFiles(repo, { 'a.txt': '2\n' });
    const remotes = new GitRemotes({ root: path.join(work(), 'git') });
    const { remote } = await remotes.importRepository(repo, 'main');
    const tip = () => git(['rev-parse', 'refs/heads/ado/t1'], { cwd: remote });

    expect(await remotes.ensureTaskBranch(remote, 'ado/t1', first)).toBe(first);
    expect(await remotes.ensureTaskBranch(remote, 'ado/t1', second)).toBe(first);
    expect(await tip()).toBe(first);
    expect(await remotes.ensureTaskBranch(remote, 'ado/t1', second, { reset: true })).toBe(second);
    expect(await tip()).toBe(second);
  });

  it('rejects a commit the remote does not have and an invalid branch name', async () => {
    const repo = path.join(work(), 'task-bad');
    const sha = await createRepo(repo, { 'a.txt': '1\n' });
    const remotes = new GitRemotes({ root: path.join(work(), 'git') });
    const { remote } = await remotes.importRepository(repo, 'main');

    const unknown = await rejection(remotes.ensureTaskBranch(remote, 'ado/t2', 'f'.repeat(40)));
    expect(unknown).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect(unknown.message).toContain('is not in the shared remote');

    const badName = await rejection(remotes.ensureTaskBranch(remote, 'ado/bad..name', sha));
    expect(badName.message).toContain('not a valid git branch name');
  });
});
