/**
 * Keeps paths that come from outside (the model's edits, file reads) inside the workspace: no
 * absolute paths, no `..`, nothing under `.git`, and no symbolic link that leads out.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { FailureType, nonRetryable } from '../domain/errors';

/**
 * The absolute path of `relPath` inside `root`. Throws a non-retryable `AdoError`
 * (`InvalidInput`) saying what is wrong with the path (without repeating it: callers name it).
 */
export async function resolveInside(root: string, relPath: string): Promise<string> {
  const problem = pathProblem(relPath);
  if (problem) throw nonRetryable(FailureType.InvalidInput, problem);
  const target = path.resolve(root, relPath);
  const realRoot = await realpath(root);
  // A symlink in the workspace may point anywhere; judge where the path really lands.
  const landing = await realpath(await nearestExisting(target)).catch((err: unknown) => {
    throw nonRetryable(FailureType.InvalidInput, 'is a symbolic link that leads nowhere', { cause: err });
  });
  if (landing !== realRoot && !landing.startsWith(realRoot + path.sep)) {
    throw nonRetryable(FailureType.InvalidInput, 'leads outside the workspace through a symbolic link');
  }
  return target;
}

/** Why `relPath` is not a usable workspace-relative path, or `undefined` when it is. */
function pathProblem(relPath: string): string | undefined {
  if (relPath.trim() === '') return 'empty path; give a path relative to the repository root';
  if (relPath.includes('\0')) return 'path contains a NUL character';
  if (path.isAbsolute(relPath) || /^[A-Za-z]:[\\/]/.test(relPath) || relPath.startsWith('\\')) {
    return 'absolute paths are not allowed; give a path relative to the repository root';
  }
  const segments = relPath.split(/[\\/]/);
  if (segments.includes('..')) return '".." is not allowed; give a path inside the repository';
  if (segments.some((s) => s.toLowerCase() === '.git')) return 'files under .git cannot be changed';
  if (segments.every((s) => s === '' || s === '.')) return 'names the repository root, not a file';
  return undefined;
}

async function nearestExisting(target: string): Promise<string> {
  let current = target;
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}
