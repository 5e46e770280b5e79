/**
 * Small real git repositories for tests, made with the production git runner and no reliance on
 * the machine's git config.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { RepoRef } from '../../src/domain/repo-ref';
import { git, identityEnv } from '../../src/workspace/git';
import { GitRemotes } from '../../src/workspace/remotes';
import { Workspace } from '../../src/workspace/workspace';

/**
 * Makes git in this test process see no global or system config, so tests prove ADO needs none
 * (no user.name, no user.email). Returns the temp folder to remove afterwards.
 */
export async function isolateGitConfig(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-gitcfg-'));
  const empty = path.join(dir, 'gitconfig');
  await writeFile(empty, '');
  process.env.GIT_CONFIG_GLOBAL = empty;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  return dir;
}

/** A new temp folder; remove it with `removeDirs`. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `ado-${prefix}-`));
}

export async function removeDirs(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes `files` (path → content) under `dir`, creating folders. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
}

/** Writes `files` and commits everything in the repository at `dir`; returns the new sha. */
export async function commitFiles(dir: string, files: Record<string, string>, message = 'change'): Promise<string> {
  await writeFiles(dir, files);
  await git(['add', '--all'], { cwd: dir });
  await git(['commit', '--quiet', '-m', message], { cwd: dir, env: identityEnv() });
  return git(['rev-parse', 'HEAD'], { cwd: dir });
}

/** A new repository at `dir` on `branch` with one commit of `files`; returns its sha. */
export async function createRepo(dir: string, files: Record<string, string>, branch = 'main'): Promise<string> {
  await git(['init', '--quiet', `--initial-branch=${branch}`, dir]);
  return commitFiles(dir, files, 'initial');
}

/**
 * For a test file: git sees no user config, and one temp folder holds the file's repositories
 * (removed after the file). Returns the folder's path (known once the file's tests start).
 */
export function useGitTestFolder(prefix: string): () => string {
  let configDir = '';
  let dir = '';
  beforeAll(async () => {
    configDir = await isolateGitConfig();
    dir = await tempDir(prefix);
  });
  afterAll(() => removeDirs(configDir, dir));
  return () => dir;
}

/** A new repository `<work>/<name>` with `files` on main, imported into shared remotes under `<work>/git`. */
export async function importedRepo(work: string, name: string, files: Record<string, string>): Promise<RepoRef> {
  const repo = path.join(work, name);
  await createRepo(repo, files);
  const { remote, baseSha } = await new GitRemotes({ root: path.join(work, 'git') }).importRepository(repo, 'main');
  return { repository: repo, remote, sha: baseSha };
}

/** Commits `files` on top of `ref.sha` to `branch` of the shared remote, as an iteration does. */
export async function pushChange(work: string, ref: RepoRef, branch: string, files: Record<string, string>): Promise<string> {
  const ws = await Workspace.checkout(ref, path.join(work, 'scratch'));
  try {
    await writeFiles(ws.dir, files);
    return await ws.commitAndPush({ branch, message: `change ${Object.keys(files).join(' ')}` });
  } finally {
    await ws.dispose();
  }
}
