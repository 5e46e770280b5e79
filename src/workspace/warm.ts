/**
 * The warm workspaces of one worker process: a task's working tree kept between its activities,
 * so checkout and `setup` happen once per task instead of once per activity. Each lives in
 * `<root>/<task>.<worker>/` as `tree/` (all a sandboxed command sees) and `git/` (beside it, so nothing
 * run in the sandbox can plant hooks or config that host git would read), with `owner.json`
 * naming the process that holds it. The shared remote stays the truth: the workspace is a cache
 * that any worker can rebuild from a pushed sha, and a sweep removes those whose owner is gone.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../config/install-once';
import type { RepoRef } from '../domain/repo-ref';
import { silentLogger, type Logger } from '../telemetry/logger';
import { Workspace } from './workspace';

/** This process among the workers: names its workspace queue and marks what it owns. */
export const PROCESS_WORKER_ID = `${os.hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 6)}`;

/** A workspace untouched this long is swept even when its owner still runs (a leak, not a task). */
const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;

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

  /** Removes task `taskId`'s workspace when this process holds it; true when it did. */
  async release(taskId: string): Promise<boolean> {
    if (!this.held.delete(taskId)) return false;
    await rm(this.folderOf(taskId), { recursive: true, force: true });
    this.logger.info({ taskId }, 'Warm workspace released');
    return true;
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
      const mine = owner?.workerId === this.workerId && this.held.has(owner.taskId);
      if (mine) continue;
      const age = now - (owner ? Date.parse(owner.acquiredAt) : (await stat(folder)).mtimeMs);
      const ownerAlive = owner !== undefined && owner.hostname === os.hostname() && isAlive(owner.pid);
      if (ownerAlive && age < this.maxAgeMs) continue;
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

  private async writeOwner(taskId: string, change: Partial<OwnerRecord>): Promise<void> {
    const folder = this.folderOf(taskId);
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
    await writeFile(path.join(folder, 'owner.json'), `${JSON.stringify(record)}\n`);
  }
}

/** Manifests and lockfiles whose content decides what `setup` installs. */
const DEPENDENCY_FILES = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements.txt',
  'poetry.lock',
  'Pipfile.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
] as const;

/**
 * The key of what `setup` would install in `workspace`: its command and the committed content of
 * the dependency files at the workspace's head (their blob ids, which name their content). The
 * same key means the installed tree still fits.
 */
export async function setupKey(workspace: Workspace, setupCommand: string): Promise<string> {
  const hash = createHash('sha256').update(setupCommand).update('\0');
  const blobs = await workspace.committedBlobs(workspace.sha, DEPENDENCY_FILES);
  for (const name of DEPENDENCY_FILES) hash.update(`${name}\0${blobs.get(name) ?? '-'}\0`);
  return hash.digest('hex');
}
