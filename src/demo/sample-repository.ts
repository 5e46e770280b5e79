/** The demo's sample repositories: a fresh git repository with one commit for each run. */
import { execFile } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A fixed identity and date: every copy's first commit is the same commit. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'ADO demo',
  GIT_AUTHOR_EMAIL: 'demo@ado.invalid',
  GIT_COMMITTER_NAME: 'ADO demo',
  GIT_COMMITTER_EMAIL: 'demo@ado.invalid',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Copies `source` into `<parent>/<name>`, makes it a git repository on `main` with one commit; returns its path. */
export async function createSampleRepository(source: string, parent: string, name = path.basename(source)): Promise<string> {
  const dir = path.join(parent, name);
  await mkdir(parent, { recursive: true });
  await cp(source, dir, { recursive: true, errorOnExist: true, force: false });
  await commitAsSample(dir, 'Initial commit: signup handler without validation');
  return dir;
}

/** Makes the files in `dir` a git repository on `main` with one commit of them, by the fixed identity and date. */
export async function commitAsSample(dir: string, message: string): Promise<void> {
  const git = (args: string[]) => run('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV, HOME: dir } });
  await git(['init', '--quiet', '--initial-branch=main']);
  await git(['add', '--all']);
  await git(['commit', '--quiet', '--no-gpg-sign', '-m', message]);
}
