/**
 * The warm workspaces of one worker process: a task's working tree kept between its activities,
 * so checkout and `setup` happen once per task instead of once per activity. Each lives in
 * `<root>/<task>.<worker>/` as `tree/` (all a sandboxed command sees) and `git/` (beside it, so nothing
 * run in the sandbox can plant hooks or config that host git would read), with `owner.json`
 * naming the process that holds it. The shared remote stays the truth: the workspace is a cache
 * that any worker can rebuild from a pushed sha, and a sweep removes those whose owner is gone.
 *
 * Within a task, setup runs again only when its `setupKey` (repository, setup command, the
 * dependency files' content) changes. Beside the workspaces, in `deps.<worker>/`, the worker's
 * dependency cache: what a `setup` that passed installed (the folders git ignores after it), by
 * `dependencyCacheKey` (repository, setup command, the whole tree it ran in), so that the next
 * task from the same commit links it into its tree instead of running setup again: what setup
 * installs is the work of the code it ran, so a tree only gets what its own code would have
 * installed, never what another task's model made setup install. Entries are hard links, so they share files with
 * the trees: only where the sandbox runs as another user, under whom a file ADO owns and keeps
 * read-only to others cannot be written (the ownership lease never hands over a linked file,
 * and a run can only replace it in its own tree: see workspace-copy.ts). The sweep treats the
 * cache like a workspace of the worker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../config/install-once';
import { linkFolders } from '../sandbox/workspace-copy';
import type { RepoRef } from '../domain/repo-ref';
import { silentLogger, type Logger } from '../telemetry/logger';
import { Workspace } from './workspace';

/** This process among the workers: names its workspace queue and marks what it owns. */
export const PROCESS_WORKER_ID = `${os.hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 6)}`;

/** A workspace untouched this long is swept even when its owner still runs (a leak, not a task). */
const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;

/** Dependency cache entries a worker keeps; a new one beyond removes the least recently used. */
const CACHE_ENTRIES = 4;

/** The owner record's task of a dependency cache (no task holds it). */
const CACHE_OWNER = '(dependency cache)';

/** The file of a cache entry that lists its folders. */
const ENTRY_FOLDERS = 'folders.json';

interface OwnerRecord {
  taskId: string;
  workerId: string;
  hostname: string;
  pid: number;
  acquiredAt: string;
  /** The setup key (see `setupKey`) of the last `setup` that passed in this tree. */
  setupKey?: string;
}

export interface WarmWorkspacesOptions {
  /** Folder of this host's warm workspaces (under the deployment's workspaces folder). */
  root: string;
  /** @default PROCESS_WORKER_ID */
  workerId?: string;
  logger?: Logger;
  /** @default 24 hours */
  maxAgeMs?: number;
}

export class WarmWorkspaces {
  readonly root: string;
  readonly workerId: string;
  private readonly logger: Logger;
  private readonly maxAgeMs: number;
  /** The workspaces this process holds, by task. */
  private readonly held = new Map<string, Workspace>();
  /** Dependency cache entries trees are being linked from now, by key: how many. */
  private readonly linking = new Map<string, number>();
  /** The last use of each task's tree (`exclusive`), by task. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(options: WarmWorkspacesOptions) {
    this.root = options.root;
    this.workerId = options.workerId ?? PROCESS_WORKER_ID;
    this.logger = options.logger ?? silentLogger();
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  /**
   * Task `taskId`'s workspace at `ref.sha`: the one this process holds (synced to the sha), or a
   * new one. Another process's workspace of the same task is never used (the sweep removes it).
   */
  async acquire(taskId: string, ref: RepoRef, logger: Logger = this.logger): Promise<Workspace> {
    const held = this.held.get(taskId);
    if (held) {
      await held.sync(ref.sha);
      return held;
    }
    const folder = this.folderOf(taskId);
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    await this.writeOwner(taskId, {});
    const workspace = await Workspace.attach(ref, { tree: path.join(folder, 'tree'), gitDir: path.join(folder, 'git') }, { logger });
    this.held.set(taskId, workspace);
    logger.info({ folder, sha: ref.sha }, 'Warm workspace acquired');
    return workspace;
  }

  /**
   * Runs `use` once every earlier use of task `taskId`'s tree in this process has ended: an
   * attempt the server gave up on may still run its command here when the retry arrives, and
   * must not write the tree while the retry checks and judges it. `wait` is given the wait (to
   * heartbeat meanwhile).
   */
  async exclusive<T>(taskId: string, use: () => Promise<T>, wait: (earlier: Promise<void>) => Promise<void> = (earlier) => earlier): Promise<T> {
    const earlier = (this.busy.get(taskId) ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
    const mine = wait(earlier).then(use);
    const done = mine.then(
      () => undefined,
      () => undefined,
    );
    this.busy.set(taskId, done);
    try {
      return await mine;
    } finally {
      if (this.busy.get(taskId) === done) this.busy.delete(taskId);
    }
  }

  /** Whether this process holds task `taskId`'s workspace. */
  holds(taskId: string): boolean {
    return this.held.has(taskId);
  }

  /** The key of the last `setup` that passed in task `taskId`'s workspace, if any. */
  async setupKeyOf(taskId: string): Promise<string | undefined> {
    return (await this.readOwner(this.folderOf(taskId)))?.setupKey;
  }

  /** Records that `setup` with `key` passed in task `taskId`'s workspace. */
  async recordSetup(taskId: string, key: string): Promise<void> {
    await this.writeOwner(taskId, { setupKey: key });
  }

  /**
   * Links what setup left in task `taskId`'s tree (`paths`, relative) to a second place in the
   * task's folder, out of the sandbox's sight, so that each file has two links and the ownership
   * lease never hands it to a run: a run can then replace such a file, not rewrite it unseen
   * (Workspace.keepSetupOutputs). Pins made before are dropped first.
   */
  async pinSetupOutputs(taskId: string, workspace: Workspace, paths: readonly string[]): Promise<void> {
    const pins = path.join(this.folderOf(taskId), 'pins');
    await rm(pins, { recursive: true, force: true });
    await mkdir(pins, { recursive: true });
    await linkFolders(workspace.dir, pins, paths);
  }

  /** Removes task `taskId`'s workspace when this process holds it; true when it did. */
  async release(taskId: string): Promise<boolean> {
    if (!this.held.delete(taskId)) return false;
    await rm(this.folderOf(taskId), { recursive: true, force: true });
    this.logger.info({ taskId }, 'Warm workspace released');
    return true;
  }

  /**
   * Links the dependencies cached under `key` (a `dependencyCacheKey`) into `workspace`, after
   * removing every untracked file there (what an earlier setup or command left); false, changing
   * nothing, when the cache has no such entry.
   */
  async restoreDependencies(workspace: Workspace, key: string): Promise<boolean> {
    const entry = path.join(this.cacheFolder(), key);
    // Marked before reading anything: eviction (same process) skips an entry a tree links from,
    // since a half-linked tree would pass for set up.
    this.linking.set(key, (this.linking.get(key) ?? 0) + 1);
    try {
      const listing = await readFile(path.join(entry, ENTRY_FOLDERS), 'utf8').catch(() => undefined);
      if (listing === undefined) return false;
      // As the setup it stands for: on exactly the commit's tree.
      await workspace.removeUntracked();
      await linkFolders(entry, workspace.dir, JSON.parse(listing) as string[]);
    } finally {
      const left = this.linking.get(key)! - 1;
      if (left === 0) this.linking.delete(key);
      else this.linking.set(key, left);
    }
    await workspace.excludeUntracked();
    const now = new Date();
    await utimes(entry, now, now);
    return true;
  }

  /**
   * Keeps what setup installed in `workspace` (the folders git ignores there) as the cache entry
   * of `key`, a `dependencyCacheKey` of the tree setup ran in, by hard links; an entry already
   * there stays. Keeps the newest `CACHE_ENTRIES`.
   */
  async cacheDependencies(workspace: Workspace, key: string): Promise<void> {
    const cache = this.cacheFolder();
    const entry = path.join(cache, key);
    if (existsSync(entry)) return;
    await mkdir(cache, { recursive: true });
    if (!existsSync(path.join(cache, 'owner.json'))) await this.writeOwnerIn(cache, CACHE_OWNER, {});
    const folders = await workspace.ignoredFolders();
    // Made aside and renamed into place: a worker that dies meanwhile leaves no half entry.
    const building = await mkdtemp(path.join(cache, '.building-'));
    try {
      await linkFolders(workspace.dir, building, folders);
      await writeFile(path.join(building, ENTRY_FOLDERS), JSON.stringify(folders));
      await rename(building, entry);
    } catch (err) {
      await rm(building, { recursive: true, force: true });
      // Another activity of this worker cached the same key first.
      if (!existsSync(entry)) throw err;
    }
    await this.evictDependencies();
  }

  private async evictDependencies(): Promise<void> {
    const cache = this.cacheFolder();
    const names = (await readdir(cache, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    if (names.length <= CACHE_ENTRIES) return;
    const aged = await Promise.all(names.map(async (name) => ({ name, used: (await stat(path.join(cache, name))).mtimeMs })));
    aged.sort((a, b) => b.used - a.used);
    for (const { name } of aged.slice(CACHE_ENTRIES)) {
      if (this.linking.has(name)) continue;
      // Out of reach by one rename first: an entry is either whole under its key or not there.
      const evicted = path.join(cache, `.evicted-${randomUUID().slice(0, 8)}`);
      // Another activity of this worker may have evicted it meanwhile.
      if (await rename(path.join(cache, name), evicted).then(() => true, () => false)) await rm(evicted, { recursive: true, force: true });
    }
  }

  /** This worker's dependency cache. */
  private cacheFolder(): string {
    return path.join(this.root, `deps.${this.workerId}`);
  }

  /**
   * Removes the workspaces nobody will use again: those whose owner process is gone from this
   * host, and any older than the maximum age. Run at worker start; returns the folders removed.
   */
  async sweep(now = Date.now()): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const removed: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const folder = path.join(this.root, entry.name);
      const owner = await this.readOwner(folder);
      const mine = owner?.workerId === this.workerId && (this.held.has(owner.taskId) || folder === this.cacheFolder());
      if (mine) continue;
      const age = now - (owner ? Date.parse(owner.acquiredAt) : (await stat(folder)).mtimeMs);
      const ownerAlive = owner !== undefined && owner.hostname === os.hostname() && isAlive(owner.pid);
      // A live worker's dependency cache is in use however old, and bounded by CACHE_ENTRIES.
      if (ownerAlive && (age < this.maxAgeMs || owner.taskId === CACHE_OWNER)) continue;
      await rm(folder, { recursive: true, force: true });
      removed.push(folder);
    }
    if (removed.length > 0) this.logger.info({ removed }, 'Swept warm workspaces of gone workers');
    return removed;
  }

  /**
   * The task's folder of this worker: readable, unique even where two task ids differ only in
   * characters replaced here, and never another process's (workers on one host share the root).
   */
  private folderOf(taskId: string): string {
    const readable = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
    const digest = createHash('sha256').update(taskId).digest('hex').slice(0, 8);
    return path.join(this.root, `${readable}-${digest}.${this.workerId}`);
  }

  private async readOwner(folder: string): Promise<OwnerRecord | undefined> {
    const text = await readFile(path.join(folder, 'owner.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as OwnerRecord);
  }

  private writeOwner(taskId: string, change: Partial<OwnerRecord>): Promise<void> {
    return this.writeOwnerIn(this.folderOf(taskId), taskId, change);
  }

  private async writeOwnerIn(folder: string, taskId: string, change: Partial<OwnerRecord>): Promise<void> {
    const current = await this.readOwner(folder);
    const record: OwnerRecord = {
      taskId,
      workerId: this.workerId,
      hostname: os.hostname(),
      pid: process.pid,
      acquiredAt: current?.acquiredAt ?? new Date().toISOString(),
      ...(current?.setupKey !== undefined && { setupKey: current.setupKey }),
      ...change,
    };
    // Written aside and renamed over: a worker killed while writing leaves the old record whole.
    const aside = path.join(folder, `.owner.json.${randomUUID().slice(0, 8)}`);
    await writeFile(aside, `${JSON.stringify(record)}\n`);
    await rename(aside, path.join(folder, 'owner.json'));
  }
}

/** Manifests and lockfiles whose content decides what `setup` installs. */
const DEPENDENCY_FILES = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  '.npmrc',
  'requirements.txt',
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'poetry.lock',
  'uv.lock',
  'Pipfile',
  'Pipfile.lock',
  'go.mod',
  'go.sum',
  'Cargo.toml',
  'Cargo.lock',
  'Gemfile',
  'Gemfile.lock',
] as const;

/**
 * The key of what `setup` would install in `workspace`: the repository, the command and the
 * committed content of the dependency files at the workspace's head, in any folder (a monorepo's
 * packages have their own manifests), by their blob ids, which name their content. The same key
 * means the installed tree still fits.
 */
export async function setupKey(workspace: Workspace, setupCommand: string): Promise<string> {
  const hash = createHash('sha256').update(workspace.ref.repository).update('\0').update(setupCommand).update('\0');
  const blobs = await workspace.committedBlobsNamed(workspace.sha, DEPENDENCY_FILES);
  for (const file of [...blobs.keys()].sort()) hash.update(`${file}\0${blobs.get(file)!}\0`);
  return hash.digest('hex');
}

/**
 * The dependency cache's key of what `setup` installs in `workspace`: the repository, the command
 * and the whole tree of the workspace's head (its id names its content). Not `setupKey`: setup
 * runs the repository's code, which the model may have edited (an install script, a local
 * package), so what one task's setup installed goes only to a tree that would run the very same
 * code, usually the repository as the user gave it.
 */
export async function dependencyCacheKey(workspace: Workspace, setupCommand: string): Promise<string> {
  return createHash('sha256').update(`${workspace.ref.repository}\0${setupCommand}\0${await workspace.treeId()}`).digest('hex');
}
