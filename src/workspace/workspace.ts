/**
 * A working copy of one commit of the shared remote, in a fresh folder of its own: what an
 * activity edits, runs and commits. Rebuilt from (remote, sha) by every activity, so no worker
 * depends on another's disk.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RepoRef } from '../domain/repo-ref';
import { AdoError, FailureType, nonRetryable } from '../domain/errors';
import { silentLogger, type Logger } from '../telemetry/logger';
import { ADO_IDENTITY, git, GitCommandError, gitOrNull, HARDENED_RECEIVE_PACK, identityEnv, isLocalRemote, requireBranchName, type GitIdentity, type GitOptions } from './git';
import { resolveInside } from './paths';
import { isTransportFailure, serverAway } from './shared-remote';

const run = promisify(execFile);

export interface CommitAndPushOptions {
  /** Branch of the shared remote to push to (the task branch). */
  branch: string;
  message: string;
  /** Commit author; default ADO. The committer is always ADO. */
  author?: GitIdentity;
}

export interface CheckoutOptions {
  logger?: Logger;
}

/** Where a long-lived workspace keeps its working tree and its git directory (see `Workspace.attach`). */
export interface WorkspaceLayout {
  /** The working tree: the only folder sandboxed commands see. */
  tree: string;
  /** The git directory, beside the tree and never inside it. */
  gitDir: string;
}

export class Workspace {
  private disposed = false;
  /** The tree is exactly `head`: its user said it only read it since the last sync (`leftUnchanged`). */
  private unchanged = false;
  /** A sandboxed command ran in the tree since the last sync (`ranCommands`): stat data proves nothing. */
  private commandsRan = false;
  /** A sandboxed command ran in the tree since the last `dropLeftovers`. */
  private leftovers = false;
  /** Files with more than one link are ADO's and never handed to a run (`keepSetupOutputs`). */
  private linksReadOnly = false;
  /** What setup left in the tree (`keepSetupOutputs`), and how it looked then. */
  private setupOutputs?: { paths: string[]; listing: string };
  /** A command changed what setup left: it was removed, and setup must run again. */
  private outputsLost = false;

  private constructor(
    /** Where the workspace came from. */
    readonly ref: RepoRef,
    /** The working tree: the folder commands run in. */
    readonly dir: string,
    /** Its git directory: `dir/.git` for a checkout, outside the tree for an attached workspace. */
    private readonly gitDir: string,
    private head: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Materialises `ref.sha` of `ref.remote` in a new folder under `scratchRoot`. A local remote is
   * borrowed through git alternates (no object is copied, so it is fast whatever the repository's
   * size); a URL remote is fetched.
   */
  static async checkout(ref: RepoRef, scratchRoot: string, options: CheckoutOptions = {}): Promise<Workspace> {
    await mkdir(scratchRoot, { recursive: true });
    const dir = await mkdtemp(path.join(scratchRoot, 'ws-'));
    try {
      const gitDir = path.join(dir, '.git');
      await initRepository(ref, gitDir, dir);
      return await Workspace.at(ref, { tree: dir, gitDir }, options);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * The workspace kept in `layout` (created there when missing), with `ref.sha` checked out: the
   * tree is reset to the commit, and untracked files not ignored (or excluded, see
   * `excludeUntracked`) are removed, so a half-applied edit of an attempt that died is gone while
   * installed dependencies stay. `dispose` is not for these: their owner removes the folder.
   */
  static async attach(ref: RepoRef, layout: WorkspaceLayout, options: CheckoutOptions = {}): Promise<Workspace> {
    await mkdir(layout.tree, { recursive: true });
    if (!existsSync(layout.gitDir)) await initRepository(ref, layout.gitDir, layout.tree);
    return Workspace.at(ref, layout, options);
  }

  private static async at(ref: RepoRef, layout: WorkspaceLayout, options: CheckoutOptions): Promise<Workspace> {
    const workspace = new Workspace(ref, layout.tree, layout.gitDir, '', options.logger ?? silentLogger());
    await workspace.sync(ref.sha);
    return workspace;
  }

  /** Checks out `sha` (fetched from the remote when missing) and drops every change not committed. */
  async sync(sha: string): Promise<void> {
    // A warm workspace's next call usually finds the tree at `sha` already: after a call that
    // only read it, nothing to do; otherwise one git call instead of four when nothing is to be
    // dropped (status lists what checkout and clean would undo, and nothing else).
    const unchanged = this.unchanged && sha === this.head;
    // Whoever synced may change the tree from here on.
    this.unchanged = false;
    // A command can rewrite a file keeping its size, inode and mtime, and ctime is not trusted
    // (initRepository): an index without stat data makes git compare every file's content.
    if (this.commandsRan) await this.git(['read-tree', 'HEAD']);
    this.commandsRan = false;
    if (unchanged || (sha === this.head && (await this.git(['status', '--porcelain', '--untracked-files=normal'])) === '')) return;
    await ensureCommit(inWorkspace(this.gitDir, this.dir), this.ref.remote, sha);
    await this.git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', sha]);
    await this.git(['clean', '--quiet', '--force', '-d']);
    this.head = await this.git(['rev-parse', 'HEAD']);
  }

  /**
   * Before the repository's commands judge the tree (execute, gates): drops what commands left in
   * it since the last time, which later commands of the agent's may use (a build's output) but no
   * judge may see (a planted `__pycache__` or build info would be judged with the commit). Every
   * untracked file, ignored or not, goes, except setup's output while it is as setup left it
   * (what commands added to it goes); changed, it goes too (`setupOutputsLost`). Call after `sync`.
   */
  async dropLeftovers(): Promise<void> {
    if (!this.leftovers) return;
    let kept: string[] = [];
    if (this.setupOutputs) {
      if (await this.outputsAsSetupLeftThem(this.setupOutputs).catch(() => false)) kept = this.setupOutputs.paths;
      else this.loseOutputs();
    }
    await this.git(['clean', '--quiet', '--force', '--force', '-d', '-x', ...kept.flatMap((p) => ['-e', `/${escapePattern(p)}`])]);
    await this.removeWhatGitSkips();
    // Only now: a failure above leaves the next call to do it all again.
    this.leftovers = false;
  }

  /**
   * Removes what no git command sees and so no clean removes: any `.git` in the tree (its git
   * directory is beside it: a planted one would be a repository of its own, with its own config
   * and index, for any gate that runs git) and the contents of submodule folders (gitlinks), which
   * would be judged as if they were in the commit.
   */
  private async removeWhatGitSkips(): Promise<void> {
    if (path.dirname(this.gitDir) === this.dir) return;
    await run('find', ['-P', this.dir, '-name', '.git', '-prune', '-exec', 'rm', '-rf', '--', '{}', '+']);
    const staged = await this.git(['ls-files', '-s', '-z']);
    for (const entry of staged.split('\0')) {
      const gitlink = /^160000 [0-9a-f]+ \d\t(.*)$/s.exec(entry)?.[1];
      if (gitlink === undefined) continue;
      const folder = path.join(this.dir, gitlink);
      await rm(folder, { recursive: true, force: true });
      await mkdir(folder, { recursive: true });
    }
  }

  /**
   * Whether what setup left is as it was, once what commands added to it is removed (a tool's
   * cache in node_modules): listed again, it must be exactly as setup left it.
   */
  private async outputsAsSetupLeftThem(outputs: { paths: string[]; listing: string }): Promise<boolean> {
    const before = entriesOf(outputs.listing);
    const now = entriesOf(await this.listOutputs(outputs.paths));
    if ([...before].some(([entry, signature]) => now.get(entry) !== signature)) return false;
    // Shallowest first: removing a new folder removes what is in it.
    for (const entry of [...now.keys()].filter((entry) => !before.has(entry)).sort()) await rm(entry, { recursive: true, force: true });
    // A name that did not survive decoding, or a removal that failed, shows here.
    return (await this.listOutputs(outputs.paths)) === outputs.listing;
  }

  /** What setup left is gone or not to be trusted: it is removed (by the caller's clean) and setup runs again. */
  private loseOutputs(): void {
    if (!this.setupOutputs) return;
    this.logger.warn({ outputs: this.setupOutputs.paths }, "A command changed what setup installed in the warm workspace; it is removed and setup runs again");
    this.setupOutputs = undefined;
    this.outputsLost = true;
  }

  /**
   * Keeps `paths` (what setup installed, relative, folders with a final `/`) through the cleaning
   * after commands, as long as no command changes them: each entry's type and inode, and for a
   * file with one link its ctime, which a command cannot set back (under the ownership lease the
   * files setup left have a second link, so they are never handed over: warm.ts pins them).
   */
  async keepSetupOutputs(paths: readonly string[], options: { linksReadOnly: boolean }): Promise<void> {
    this.linksReadOnly = options.linksReadOnly;
    this.setupOutputs = { paths: [...paths], listing: await this.listOutputs(paths) };
    this.outputsLost = false;
  }

  /**
   * Says that ADO wrote files the model chose: one may be one git ignores (never committed), or
   * what setup installed, so `dropLeftovers` has work (a new file, since `replaceFile` never
   * writes into an existing one: what setup left then shows as changed).
   */
  wroteFiles(): void {
    this.leftovers = true;
  }

  /** Whether a command changed what setup left since `keepSetupOutputs` (it is gone: setup must run again). */
  get setupOutputsLost(): boolean {
    return this.outputsLost;
  }

  private async listOutputs(paths: readonly string[]): Promise<string> {
    const roots = paths.map((p) => path.join(this.dir, p.replace(/\/$/, ''))).filter((p) => lstatSync(p, { throwIfNoEntry: false }) !== undefined);
    if (roots.length === 0) return '';
    const { stdout } = await run('find', ['-P', ...roots, '-printf', '%p\\0%y %i %n %m %C@\\0'], { maxBuffer: 1024 ** 3 });
    // A folder's ctime moves with the ownership lease (its entries and mode tell what changed in
    // it), and a linked file's whenever another tree links or unlinks it (it is never handed over,
    // so only replaced: a new inode). The ctime counts for the other files, which a run may write.
    return stdout.replace(/([^\0]*)\0(\w) (\d+) (\d+) (\d+) ([^\0]*)\0/g, (_, name: string, type: string, inode: string, links: string, mode: string, ctime: string) =>
      `${name}\0${type === 'd' ? `d ${inode} ${mode}` : links !== '1' && this.linksReadOnly ? `${type} ${inode}` : `${type} ${inode} ${ctime}`}\0`,
    );
  }

  /**
   * Says that the tree was only read since the last `sync` (nothing written, no command run in
   * it), so that the next sync to the same commit has nothing to check. Any doubt: do not call.
   */
  leftUnchanged(): void {
    this.unchanged = true;
  }

  /**
   * Says that a sandboxed command ran in the tree itself (not in a copy), so that the next sync
   * checks every tracked file's content rather than its stat data, which such a command can fake,
   * and `dropLeftovers` removes what it left.
   */
  ranCommands(): void {
    this.commandsRan = true;
    this.leftovers = true;
    this.unchanged = false;
  }

  /** Removes everything git does not track, ignored or not: the tree is then exactly the checked-out commit's. */
  async removeUntracked(): Promise<void> {
    await this.git(['clean', '--quiet', '--force', '--force', '-d', '-x']);
    await this.removeWhatGitSkips();
  }

  /** The id of `commit`'s tree (default: the checked-out commit), which names its whole content. */
  async treeId(commit = this.head): Promise<string> {
    return this.git(['rev-parse', `${commit}^{tree}`]);
  }

  /**
   * Keeps the untracked files now in the tree (what `setup` installed, whatever the repository
   * ignores) out of every later commit and clean: they are listed in the git directory's own
   * exclude file, which the sandbox cannot reach. Returns the paths added.
   */
  async excludeUntracked(): Promise<string[]> {
    const out = await this.git(['ls-files', '-z', '--others', '--exclude-standard', '--directory']);
    const paths = out.split('\0').filter((p) => p !== '');
    if (paths.length > 0) {
      // Anchored and escaped, so each line names that one path and nothing else.
      const lines = paths.map((p) => `/${escapePattern(p)}\n`).join('');
      await appendFile(path.join(this.gitDir, 'info', 'exclude'), lines);
    }
    return paths;
  }

  /**
   * The folders of the tree git ignores whole and does not track (what `setup` installed:
   * node_modules and the like), relative to the root, without the final `/`.
   */
  async ignoredFolders(): Promise<string[]> {
    const out = await this.git(['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']);
    return out
      .split('\0')
      .filter((p) => p.endsWith('/'))
      .map((p) => p.slice(0, -1));
  }

  /** Everything git does not track, ignored or not (a wholly untracked folder as one path ending in `/`). */
  async untracked(): Promise<string[]> {
    return (await this.git(['ls-files', '-z', '--others', '--directory'])).split('\0').filter((p) => p !== '');
  }

  /** The commit the working tree is based on: the checked-out sha, then each commit made here. */
  get sha(): string {
    return this.head;
  }

  /** Paths of the files git tracks, relative to the root. */
  async listFiles(): Promise<string[]> {
    const out = await this.git(['ls-files', '-z']);
    return out.split('\0').filter((p) => p !== '');
  }

  /** A file's text. Throws a non-retryable `InvalidInput` error for a missing or unsafe path. */
  async readFile(relPath: string): Promise<string> {
    try {
      return await readFile(await resolveInside(this.dir, relPath), 'utf8');
    } catch (err) {
      const why = err instanceof AdoError ? err.message : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
      throw nonRetryable(FailureType.InvalidInput, `Cannot read ${relPath}: ${why}`, { cause: err });
    }
  }

  /**
   * The text of `relPath` as committed in `commit`, read from git's objects (not the working tree);
   * `null` when the commit has no regular file there (none, a folder, or a symbolic link).
   */
  async readCommitted(commit: string, relPath: string): Promise<string | null> {
    const entry = await this.git(['ls-tree', '-z', '--full-tree', commit, '--', relPath]);
    const match = /^(100644|100755) blob ([0-9a-f]+)\t/.exec(entry);
    if (!match?.[2]) return null;
    return this.git(['cat-file', 'blob', match[2]], {}, { keepTrailingNewline: true });
  }

  /**
   * The blob ids of the regular files of `commit` named one of `names`, in any folder, by path
   * (one git call): a content fingerprint of, say, every manifest of a monorepo.
   */
  async committedBlobsNamed(commit: string, names: readonly string[]): Promise<Map<string, string>> {
    const wanted = new Set(names);
    const listing = await this.git(['ls-tree', '-r', '-z', '--full-tree', commit]);
    const blobs = new Map<string, string>();
    for (const entry of listing.split('\0')) {
      const match = /^(?:100644|100755) blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
      if (match?.[1] && match[2] !== undefined && wanted.has(path.posix.basename(match[2]))) blobs.set(match[2], match[1]);
    }
    return blobs;
  }

  /**
   * The commit task `taskId` started from: the newest first-parent ancestor of the checked-out
   * commit that is not one of the task's own iteration commits (`commitMessage` of the task).
   * For callers that were not told (activities scheduled by an older workflow version).
   */
  async taskBase(taskId: string): Promise<string> {
    const log = await this.git(['log', '--first-parent', '-z', '--format=%H %s', 'HEAD']);
    const own = iterationSubjectPrefix(taskId);
    for (const entry of log.split('\0')) {
      const [sha = '', ...subject] = entry.split(' ');
      if (sha !== '' && !subject.join(' ').startsWith(own)) return sha;
    }
    throw nonRetryable(FailureType.RepositoryError, `No commit before task ${taskId}'s own in the history of ${this.head}: its base is unknown`);
  }

  /**
   * Commits the whole working tree on top of `sha` and pushes it to `branch` of the remote.
   * Nothing changed: returns `sha` as it is. The branch already holds a commit with the same tree
   * on the same parent (this activity ran before): returns that commit instead of a duplicate.
   * Otherwise the branch is set to the new commit, replacing what a superseded attempt pushed.
   */
  async commitAndPush(options: CommitAndPushOptions): Promise<string> {
    await requireBranchName(options.branch);
    await this.git(['add', '--all']);
    const tree = await this.git(['write-tree']);
    if (tree === (await this.git(['rev-parse', `${this.head}^{tree}`]))) return this.head;

    const ref = `refs/heads/${options.branch}`;
    const tip = await this.remoteTip(ref);
    if (tip !== null && (await this.isSameChange(tip, tree))) {
      this.logger.info({ branch: options.branch, sha: tip }, 'Change already pushed by an earlier attempt; reusing its commit');
      return this.moveHead(tip);
    }
    const commit = await this.git(['commit-tree', tree, '-p', this.head, '-m', options.message], identityEnv(options.author ?? ADO_IDENTITY));
    if (tip !== null && tip !== this.head) {
      this.logger.info({ branch: options.branch, replaced: tip, parent: this.head }, 'Replacing a branch head the workflow never recorded');
    }
    try {
      // On this machine git starts the remote's receive-pack itself: without its hooks, too.
      const local = isLocalRemote(this.ref.remote) || this.ref.remote.startsWith('file://');
      await this.git(['push', '--quiet', ...(local ? [HARDENED_RECEIVE_PACK] : []), `--force-with-lease=${ref}:${tip ?? ''}`, this.ref.remote, `${commit}:${ref}`]);
    } catch (err) {
      // Someone moved the branch since we looked, or the server is away; a retry looks again.
      const why = err instanceof GitCommandError ? err.stderr : '';
      if (isTransportFailure(why)) throw serverAway(`Could not push to ${options.branch}: ${(err as Error).message}`, err);
      throw new AdoError(FailureType.RepositoryError, `Could not push to ${options.branch}: ${(err as Error).message}`, { cause: err });
    }
    return this.moveHead(commit);
  }

  /** Removes the folder; safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    await rm(this.dir, { recursive: true, force: true });
    this.disposed = true;
  }

  /** git on this workspace, with its git directory and work tree named explicitly. */
  private git(args: readonly string[], env: Record<string, string> = {}, output: { keepTrailingNewline?: boolean } = {}): Promise<string> {
    const options = inWorkspace(this.gitDir, this.dir);
    return git(args, { ...options, env: { ...options.env, ...env }, ...output });
  }

  private async remoteTip(ref: string): Promise<string | null> {
    const line = await this.git(['ls-remote', this.ref.remote, ref]).catch((err: unknown) => {
      const why = err instanceof GitCommandError ? err.stderr : '';
      throw isTransportFailure(why) ? serverAway(`Could not read ${ref} of the shared remote ${this.ref.remote}: ${why.trim()}`, err) : err;
    });
    return line.split('\t')[0] || null;
  }

  /** Whether commit `tip` is our change: same tree, on top of our head. */
  private async isSameChange(tip: string, tree: string): Promise<boolean> {
    await ensureCommit(inWorkspace(this.gitDir, this.dir), this.ref.remote, tip);
    const [tipTree, tipParents] = await Promise.all([this.git(['rev-parse', `${tip}^{tree}`]), this.git(['rev-list', '--parents', '-n', '1', tip])]);
    return tipTree === tree && tipParents === `${tip} ${this.head}`;
  }

  private async moveHead(sha: string): Promise<string> {
    await this.git(['update-ref', 'HEAD', sha]);
    this.head = sha;
    return sha;
  }
}

/** The subject of every iteration commit of task `taskId` starts with this (see `commitMessage`). */
function iterationSubjectPrefix(taskId: string): string {
  return `ado(${taskId}): `;
}

/** The message of the commit of iteration `iteration` of task `taskId`. */
export function commitMessage(taskId: string, iteration: number, summary: string): string {
  return `${iterationSubjectPrefix(taskId)}iteration ${iteration}\n\n${summary}`;
}

/**
 * Options for git on the work tree `dir` with git directory `gitDir`, both given explicitly, so
 * that neither a `core.worktree` setting nor a `.git` file pointing elsewhere can send git (and
 * `git add --all`) to another folder.
 */
function inWorkspace(gitDir: string, dir: string): GitOptions {
  return { cwd: dir, env: { GIT_DIR: gitDir, GIT_WORK_TREE: dir } };
}

/**
 * A new repository in `gitDir` for the work tree `tree`. A local remote is borrowed through git
 * alternates (no object is copied, so it is fast whatever the repository's size); a URL remote
 * is fetched from as needed.
 */
async function initRepository(ref: RepoRef, gitDir: string, tree: string): Promise<void> {
  await git(['init', '--quiet'], inWorkspace(gitDir, tree));
  // Every sandboxed run hands the tree to the sandbox user and back (ownership.ts), which moves
  // every file's ctime: trusted, it would make git read all files again at the next checkout or
  // `add` (measured: 36 s for 20,000 files under load). Size and mtime still tell a change.
  await git(['config', 'core.trustctime', 'false'], inWorkspace(gitDir, tree));
  // The tree holds the commit's bytes, as they are: no `.gitattributes` conversion (eol, ident,
  // filters, encodings), under which a file could differ from its blob and git still call it clean.
  await mkdir(path.join(gitDir, 'info'), { recursive: true });
  await writeFile(path.join(gitDir, 'info', 'attributes'), '* -text -ident -filter !eol !working-tree-encoding\n');
  if (!isLocalRemote(ref.remote)) return;
  const objects = await realpath(path.join(ref.remote, 'objects')).catch((err: unknown) => {
    throw nonRetryable(FailureType.RepositoryError, `Shared remote ${ref.remote} is not a git repository`, { cause: err });
  });
  await writeFile(path.join(gitDir, 'objects', 'info', 'alternates'), `${objects}\n`);
}

/** Makes sure commit `sha` is in the repository `at`, fetching it from `remote` if needed. */
async function ensureCommit(at: GitOptions, remote: string, sha: string): Promise<void> {
  if ((await gitOrNull(['cat-file', '-e', `${sha}^{commit}`], at)) !== null) return;
  try {
    await git(['fetch', '--quiet', '--no-tags', remote, sha], at);
  } catch (err) {
    const why = err instanceof GitCommandError ? err.stderr.trim() : String(err);
    if (isTransportFailure(why)) throw serverAway(`Could not reach the shared remote ${remote} for commit ${sha} (${why})`, err);
    throw nonRetryable(FailureType.RepositoryError, `Commit ${sha} is not in the shared remote ${remote} (${why})`, { cause: err });
  }
}

/** `relPath` as a gitignore pattern that names that one path (anchored by the caller with `/`). */
function escapePattern(relPath: string): string {
  return relPath.replace(/[\\*?[\]!# ]/g, (c) => `\\${c}`);
}

/** The entries of a `listOutputs` listing: path → what must stay the same. */
function entriesOf(listing: string): Map<string, string> {
  const fields = listing.split('\0');
  const entries = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) entries.set(fields[i]!, fields[i + 1]!);
  return entries;
}
