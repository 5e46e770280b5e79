/**
 * Private copies of a workspace, for runs that must not see each other's writes (quality gates
 * in parallel: a build writing dist/ while tests read it). `cp -a --reflink=auto` shares blocks
 * on copy-on-write file systems (btrfs, XFS) and copies them elsewhere; the copy sits beside the
 * workspace so it is on the same file system and as reachable as the workspace itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `use` on a fresh copy of `workdir` (named after `label`) and removes the copy afterwards. */
export async function withWorkspaceCopy<T>(workdir: string, label: string, use: (copy: string) => Promise<T>): Promise<T> {
  const safeLabel = label.replace(/[^A-Za-z0-9_-]/g, '_');
  const copy = await mkdtemp(path.join(path.dirname(workdir), `.${path.basename(workdir)}.${safeLabel}-`));
  try {
    await run('cp', ['-a', '--reflink=auto', '--', `${workdir}/.`, copy]);
    return await use(copy);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}
