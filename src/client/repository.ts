import { existsSync } from 'node:fs';
import path from 'node:path';
import { git } from '../workspace/git';
import { InvalidTaskInputError } from './errors';

/** git URLs ADO accepts as they are: scheme URLs and scp-like `user@host:path`. */
export function isGitUrl(repository: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[\w.-]+@[\w.-]+:/.test(repository);
}

/**
 * Normalises a repository given by a user: URLs stay, local paths become absolute and must be a
 * git repository. Throws `InvalidTaskInputError` saying what to give instead.
 */
export async function resolveRepository(repository: string, cwd = process.cwd()): Promise<string> {
  const trimmed = repository.trim();
  if (!trimmed) throw new InvalidTaskInputError('No repository given: pass --repo <path to a git repository | git URL>.');
  if (isGitUrl(trimmed)) return trimmed;
  const absolute = path.resolve(cwd, trimmed);
  if (!existsSync(absolute)) {
    throw new InvalidTaskInputError(`Repository ${absolute} does not exist: pass --repo <path to a git repository | git URL>.`);
  }
  try {
    return (await git(['rev-parse', '--show-toplevel'], { cwd: absolute })).trim();
  } catch {
    throw new InvalidTaskInputError(`${absolute} is not a git repository: run \`git init\` and commit there, or pass another --repo.`);
  }
}
