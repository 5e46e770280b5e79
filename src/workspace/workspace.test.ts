import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RepoRef } from '../domain/repo-ref';
import { AdoError, FailureType } from '../domain/errors';
import { importedRepo, useGitTestFolder } from '../../test/helpers/git-repos';
import { git } from './git';
import { Workspace } from './workspace';

const work = useGitTestFolder('workspace');
const scratch = () => path.join(work(), 'scratch');
const imported = (name: string, files: Record<string, string>) => importedRepo(work(), name, files);

async function checkedOut(ref: RepoRef, use: (ws: Workspace) => Promise<void>): Promise<void> {
  const ws = await Workspace.checkout(ref, scratch());
  try {
    await use(ws);
  } finally {
    await ws.dispose();
  }
}

const branchTip = (ref: RepoRef, branch: string) => git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: ref.remote }).catch(() => null);

describe('Workspace', () => {
  it('materialises the commit in a fresh folder and lists and reads its tracked files', async () => {
    const ref = await imported('read', { 'src/index.ts': 'export const a = 1;\n', 'README.md': '# hi\n' });
    await checkedOut(ref, async (ws) => {
      expect(path.dirname(ws.dir)).toBe(scratch());
      expect(ws.sha).toBe(ref.sha);
      expect((await ws.listFiles()).sort()).toEqual(['README.md', 'src/index.ts']);
      expect(await ws.readFile('src/index.ts')).toBe('export const a = 1;\n');
    });
  });

  it('refuses to read outside the workspace or a missing file, with the reason', async () => {
    const ref = await imported('read-bad', { 'a.txt': 'a\n' });
    await checkedOut(ref, async (ws) => {
      await expect(ws.readFile('../a.txt')).rejects.toThrow(/Cannot read \.\.\/a\.txt: "\.\." is not allowed/);
      const missing = await ws.readFile('nope.txt').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(AdoError);
      expect(missing).toMatchObject({ type: FailureType.InvalidInput, message: 'Cannot read nope.txt: no such file' });
    });
  });

  it('commits the working tree as ADO on top of the sha and pushes it to the branch', async () => {
    const ref = await imported('commit', { 'a.txt': 'a\n', 'gone.txt': 'x\n' });
    await checkedOut(ref, async (ws) => {
      await writeFile(path.join(ws.dir, 'a.txt'), 'changed\n');
      await writeFile(path.join(ws.dir, 'b.txt'), 'new\n');
      await git(['rm', '--quiet', 'gone.txt'], { cwd: ws.dir });

      const sha = await ws.commitAndPush({ branch: 'ado/t1', message: 'Iteration 1' });

      expect(sha).not.toBe(ref.sha);
      expect(ws.sha).toBe(sha);
      expect(await branchTip(ref, 'ado/t1')).toBe(sha);
      const meta = await git(['log', '-1', '--format=%P|%an <%ae>|%cn <%ce>|%s', sha], { cwd: ref.remote });
      expect(meta).toBe(`${ref.sha}|ADO <ado@localhost>|ADO <ado@localhost>|Iteration 1`);
      expect(await git(['ls-tree', '--name-only', sha], { cwd: ref.remote })).toBe('a.txt\nb.txt');
    });
  });

  it('returns the current sha and pushes nothing when nothing changed', async () => {
    const ref = await imported('unchanged', { 'a.txt': 'a\n' });
    await checkedOut(ref, async (ws) => {
      expect(await ws.commitAndPush({ branch: 'ado/t2', message: 'nothing' })).toBe(ref.sha);
      expect(await branchTip(ref, 'ado/t2')).toBeNull();
    });
  });

  it('reuses the commit of an earlier attempt with the same change instead of making a duplicate', async () => {
    const ref = await imported('retry', { 'a.txt': 'a\n' });
    const attempt = async () => {
      let sha = '';
      await checkedOut(ref, async (ws) => {
        await writeFile(path.join(ws.dir, 'a.txt'), 'same change\n');
        sha = await ws.commitAndPush({ branch: 'ado/t3', message: 'Iteration 1' });
      });
      return sha;
    };

    const first = await attempt();
    const second = await attempt();

    expect(second).toBe(first);
    expect(await git(['rev-list', '--count', `${ref.sha}..refs/heads/ado/t3`], { cwd: ref.remote })).toBe('1');
  });

  it('replaces what a superseded attempt pushed when the change differs', async () => {
    const ref = await imported('supersede', { 'a.txt': 'a\n' });
    const attempt = async (content: string) => {
      let sha = '';
      await checkedOut(ref, async (ws) => {
        await writeFile(path.join(ws.dir, 'a.txt'), content);
        sha = await ws.commitAndPush({ branch: 'ado/t4', message: 'Iteration 1' });
      });
      return sha;
    };

    const first = await attempt('first try\n');
    const second = await attempt('second try\n');

    expect(second).not.toBe(first);
    expect(await branchTip(ref, 'ado/t4')).toBe(second);
    expect(await git(['rev-parse', `${second}^`], { cwd: ref.remote })).toBe(ref.sha);
  });

  it('works with a git URL as the remote', async () => {
    const local = await imported('url', { 'a.txt': 'a\n' });
    const ref: RepoRef = { ...local, remote: `file://${local.remote}` };
    await checkedOut(ref, async (ws) => {
      expect(await ws.readFile('a.txt')).toBe('a\n');
      await writeFile(path.join(ws.dir, 'a.txt'), 'b\n');
      const sha = await ws.commitAndPush({ branch: 'ado/t5', message: 'over a URL' });
      expect(await branchTip(local, 'ado/t5')).toBe(sha);
    });
  });

  it('fails clearly for a commit the remote does not have, leaving no folder behind', async () => {
    const ref = await imported('missing-sha', { 'a.txt': 'a\n' });
    const err = await Workspace.checkout({ ...ref, sha: 'e'.repeat(40) }, path.join(work(), 'scratch-missing')).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
    expect((err as Error).message).toContain(`Commit ${'e'.repeat(40)} is not in the shared remote`);
    expect(await readdir(path.join(work(), 'scratch-missing'))).toEqual([]);
  });

  it('disposes of its folder, and a second dispose is harmless', async () => {
    const ref = await imported('dispose', { 'a.txt': 'a\n' });
    const ws = await Workspace.checkout(ref, scratch());
    await ws.dispose();
    expect(existsSync(ws.dir)).toBe(false);
    await expect(ws.dispose()).resolves.toBeUndefined();
  });

  it('runs none of the programs a tampered .git/config or the remote names when it commits and pushes', async () => {
    const ref = await imported('tampered', { 'a.txt': 'a\n', '.gitattributes': '* filter=evil diff=evil merge=evil\n' });
    const marker = (name: string) => path.join(work(), `ran-${name}`);
    const touch = (name: string) => `touch ${marker(name)}`;
    // What a sandboxed command or an edit that reached .git could have written.
    await checkedOut(ref, async (ws) => {
      const elsewhere = path.join(work(), 'elsewhere');
      await mkdir(elsewhere, { recursive: true });
      await writeFile(path.join(elsewhere, 'host-secret.txt'), 'secret\n');
      await writeFile(path.join(work(), 'included.cfg'), `[diff "evil"]\n\ttextconv = ${touch('textconv')}\n[credential]\n\thelper = !${touch('credential')}\n`);
      await appendFile(
        path.join(ws.dir, '.git', 'config'),
        [
          '[core]',
          `\tfsmonitor = "${touch('fsmonitor')}"`,
          `\thooksPath = ${path.join(work(), 'evil-hooks')}`,
          `\tworktree = ${elsewhere}`,
          `\tsshCommand = ${touch('ssh')}`,
          '[filter "evil"]',
          `\tclean = ${touch('clean')}`,
          `\tsmudge = ${touch('smudge')}`,
          `\tprocess = ${touch('process')}`,
          '\trequired = true',
          '[merge "evil"]',
          `\tdriver = ${touch('merge')}`,
          '[include]',
          `\tpath = ${path.join(work(), 'included.cfg')}`,
          '',
        ].join('\n'),
      );
      for (const hooks of [path.join(work(), 'evil-hooks'), path.join(ws.dir, '.git', 'hooks'), path.join(ref.remote, 'hooks')]) {
        await mkdir(hooks, { recursive: true });
        for (const hook of ['pre-commit', 'post-commit', 'pre-push', 'pre-receive', 'post-receive', 'reference-transaction']) {
          await writeFile(path.join(hooks, hook), `#!/bin/sh\n${touch(`hook-${hook}`)}\n`, { mode: 0o755 });
        }
      }
      await writeFile(path.join(ws.dir, 'a.txt'), 'changed\n');

      const sha = await ws.commitAndPush({ branch: 'ado/tampered', message: 'through a tampered config' });

      expect(await branchTip(ref, 'ado/tampered')).toBe(sha);
      // The commit holds the workspace's change, not the folder core.worktree pointed at.
      expect((await git(['ls-tree', '--name-only', sha], { cwd: ref.remote })).split('\n').sort()).toEqual(['.gitattributes', 'a.txt']);
      expect(await git(['show', `${sha}:a.txt`], { cwd: ref.remote })).toBe('changed');
    });
    const ran = (await readdir(work())).filter((name) => name.startsWith('ran-'));
    expect(ran).toEqual([]);
  });
});
