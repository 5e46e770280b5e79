/**
 * Private copies of a workspace, for runs that must not see each other's writes (quality gates
 * in parallel: a build writing dist/ while tests read it), where the sandbox cannot give them
 * overlay views instead (overlay.ts: ADO not root, or no overlayfs there). `cp -a --reflink=auto` shares blocks
 * on copy-on-write file systems (btrfs, XFS) and copies them elsewhere; the copy sits beside the
 * workspace so it is on the same file system and as reachable as the workspace itself.
 *
 * Where the file system has no reflinks (ext4), copying the data is most of a gate's overhead, so
 * the folders a caller names as `linkable` (what `setup` installed: node_modules and the like) are
 * hard-linked instead, which costs one link per file (measured on 20,000 files under load: 0.7 s
 * against 15 s for `cp -a`). A hard link shares the file itself, so this is only for a sandbox
 * that runs commands as another user (`Sandbox.runsAsOtherUser`): a linked file stays ADO's and
 * not writable by others, which the sandbox user cannot write, chmod or chown — only replace,
 * since the folders of the copy are the copy's own. Files that do not fit (another owner, group or
 * other write permission) are copied; the ownership lease never hands over a file with more than
 * one link (ownership.ts). The repository's own files are always copied: a gate may rewrite them
 * in place.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WorkspaceCopyOptions {
  /**
   * Folders (relative to the workspace, `/`-separated, e.g. `node_modules`) whose files may be
   * hard-linked into the copy instead of copied. Only safe when runs cannot write files ADO owns
   * (see the module comment). @default none
   */
  linkable?: readonly string[];
}

/**
 * A new folder beside `workdir` (on its file system, as reachable as it), named after it and
 * `label`: a gate's copy or overlay view.
 */
export function folderBeside(workdir: string, label: string): Promise<string> {
  const safeLabel = label.replace(/[^A-Za-z0-9_-]/g, '_');
  return mkdtemp(path.join(path.dirname(workdir), `.${path.basename(workdir)}.${safeLabel}-`));
}

/** Runs `use` on a fresh copy of `workdir` (named after `label`) and removes the copy afterwards. */
export async function withWorkspaceCopy<T>(workdir: string, label: string, use: (copy: string) => Promise<T>, options: WorkspaceCopyOptions = {}): Promise<T> {
  const copy = await folderBeside(workdir, label);
  try {
    const linkable = normalize(options.linkable ?? []);
    if (linkable.length === 0) await run('cp', ['-a', '--reflink=auto', '--', `${workdir}/.`, copy]);
    else await copyLinking(workdir, copy, linkable);
    return await use(copy);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/** Relative folder paths without empty, `.` or `..` components (anything else is not linked). */
function normalize(paths: readonly string[]): string[] {
  return paths
    .map((p) => p.split('/').filter((part) => part !== '' && part !== '.'))
    .filter((parts) => parts.length > 0 && !parts.includes('..'))
    .map((parts) => parts.join('/'));
}

/**
 * Copies `from` into the existing folder `to`, hard-linking the folders in `linkable`: entries on
 * the way to a linkable folder are walked, the others copied whole, with one `cp` per folder.
 */
async function copyLinking(from: string, to: string, linkable: readonly string[], rel = ''): Promise<void> {
  const copied: string[] = [];
  const linked: string[] = [];
  for (const entry of await readdir(path.join(from, rel), { withFileTypes: true })) {
    const entryRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const source = path.join(from, entryRel);
    if (!entry.isDirectory()) copied.push(source);
    else if (linkable.includes(entryRel)) linked.push(source);
    else if (linkable.some((p) => p.startsWith(`${entryRel}/`))) {
      await mkdir(path.join(to, entryRel), { mode: (await lstat(source)).mode & 0o7777 });
      await copyLinking(from, to, linkable, entryRel);
    } else copied.push(source);
  }
  const target = path.join(to, rel);
  if (copied.length > 0) await run('cp', ['-a', '--reflink=auto', '-t', target, '--', ...copied]);
  if (linked.length > 0) await linkInto(linked, from, to, target);
}

/**
 * Hard-links the folders `relFolders` of `from` (relative, `/`-separated) into `to`, at the same
 * relative places, with the same rules as a copy's linkable folders: the folders are new, the
 * files shared, except those a sandboxed run could write, which are copied. Missing parents are
 * made. For callers that keep installed dependencies between workspaces (warm.ts).
 */
export async function linkFolders(from: string, to: string, relFolders: readonly string[]): Promise<void> {
  for (const rel of normalize(relFolders)) {
    const parent = path.dirname(path.join(to, rel));
    await mkdir(parent, { recursive: true });
    await linkInto([path.join(from, rel)], from, to, parent);
  }
}

/** Links the folders `sources` (under `from`, siblings) into `parent`, their place under `to`, then unlinks the unsafe files. */
async function linkInto(sources: readonly string[], from: string, to: string, parent: string): Promise<void> {
  await run('cp', ['-a', '--link', '-t', parent, '--', ...sources]);
  await unlinkUnsafe(sources, from, to);
}

/**
 * Replaces by copies the linked files a sandboxed run could write: not owned by ADO's user, or
 * writable by group or others. `find` lists them; there are seldom any.
 */
async function unlinkUnsafe(linkedSources: readonly string[], from: string, to: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  const targets = linkedSources.map((source) => path.join(to, path.relative(from, source)));
  const { stdout } = await run('find', [...targets, '-type', 'f', '(', '!', '-uid', String(uid), '-o', '-perm', '/022', ')', '-print0'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const file of stdout.split('\0').filter((f) => f !== '')) {
    await unlink(file);
    await run('cp', ['-a', '--reflink=auto', '--', path.join(from, path.relative(to, file)), file]);
  }
}
