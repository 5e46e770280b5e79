/**
 * Keeps paths that come from outside (the model's edits, file reads, config files) inside the
 * workspace and out of its git directory. A path is judged component by component as it is on
 * disk, and no symbolic link is ever followed: a link committed in the repository (`g -> .git`,
 * `etc -> /etc`) could otherwise turn a harmless-looking path into one under `.git` or outside the
 * workspace. Nothing else writes to a workspace while an activity edits it (the sandbox runs
 * afterwards, on the commit), so what is checked here is what the write reaches.
 */
import { randomUUID } from 'node:crypto';
import { chmod, lstat, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FailureType, nonRetryable } from '../domain/errors';

/**
 * The absolute path of `relPath` inside `root`. Every component that exists must be a real folder
 * (the last one may be a file); the first missing one and all after it are left for the caller to
 * create. With `linkAtEnd`, the last component may be a symbolic link (to remove the link itself).
 * Throws a non-retryable `AdoError` (`InvalidInput`) saying what is wrong with the path (without
 * repeating it: callers name it).
 */
export async function resolveInside(root: string, relPath: string, options: { linkAtEnd?: boolean } = {}): Promise<string> {
  const problem = pathProblem(relPath);
  if (problem) throw nonRetryable(FailureType.InvalidInput, problem);
  const segments = relPath.split(/[\\/]/).filter((s) => s !== '' && s !== '.');
  let current = root;
  for (const [index, segment] of segments.entries()) {
    current = path.join(current, segment);
    const found = await lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (found === null) return path.join(root, ...segments);
    const last = index === segments.length - 1;
    if (found.isSymbolicLink() && !(last && options.linkAtEnd === true)) {
      const at = segments.slice(0, index + 1).join('/');
      throw nonRetryable(FailureType.InvalidInput, `${at} is a symbolic link; ADO does not read or write through symbolic links (delete the link, then write a file there)`);
    }
    if (!last && !found.isDirectory()) {
      throw nonRetryable(FailureType.InvalidInput, `${segments.slice(0, index + 1).join('/')} is a file, not a folder`);
    }
  }
  return current;
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
  if (segments.some(isGitDirName)) return 'files under .git cannot be changed';
  if (segments.every((s) => s === '' || s === '.')) return 'names the repository root, not a file';
  return undefined;
}

/**
 * `.git` in any spelling a file system might take for it: any case (case-insensitive volumes),
 * trailing dots or spaces (Windows drops them), and the 8.3 short name `git~1`.
 */
function isGitDirName(segment: string): boolean {
  const name = segment.toLowerCase().replace(/[. ]+$/, '');
  return name === '.git' || name === 'git~1';
}

/**
 * Writes `content` as the file `target` (a path `resolveInside` gave) through a new file renamed
 * over it, keeping its mode: never into the existing file, which may be a hard link shared with
 * another tree (what setup installed, linked with the worker's dependency cache).
 */
export async function replaceFile(target: string, content: string): Promise<void> {
  const mode = await lstat(target).then(
    (info) => info.mode & 0o7777,
    () => undefined,
  );
  const temporary = path.join(path.dirname(target), `.ado-write-${randomUUID().slice(0, 8)}`);
  try {
    await writeFile(temporary, content, { flag: 'wx' });
    if (mode !== undefined) await chmod(temporary, mode);
    await rename(temporary, target);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
