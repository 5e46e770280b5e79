/**
 * When ADO runs as root, sandboxed commands run as an unprivileged user (see bubblewrap.ts), so
 * the workspace is given to that user for the run and given back after: git refuses to work in
 * a repository owned by someone else, and the caller should find its folder as it left it.
 *
 * A file with more than one link is never given: it is shared with another tree (a gate's copy
 * shares the installed dependencies of the warm workspace, workspace-copy.ts), and handing it to
 * the sandbox user would let this run write the other tree. Giving back takes what the sandbox
 * user owns, which is all it was given and all it made.
 *
 * A folder that runs only read (through an overlay view, overlay.ts) is not given back when they
 * end: what is in it stays lent until a run that writes it ends, which gives it back to its owner.
 * Handing a workspace over and back costs a `find` and a `chown` of every entry each way (0.13 s
 * each for 20,000 files), which gates and execute would otherwise pay per iteration. The folder
 * itself goes back at once, searchable by its owner only, so that no process of the sandbox user
 * outside a run (a host daemon running as nobody) can get in meanwhile; a view needs only the
 * mounter, root, to read below it.
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FailureType, nonRetryable } from '../domain/errors';

const run = promisify(execFile);

export interface Owner {
  uid: number;
  gid: number;
}

/** nobody:nogroup on Debian and most distributions. */
export const DEFAULT_SANDBOX_USER: Owner = { uid: 65534, gid: 65534 };

/**
 * The user sandboxed commands run as: `user` (default nobody) when ADO runs as root, undefined
 * (ADO's own user) otherwise. Throws a non-retryable `InvalidConfig` error for root, or for
 * another user when ADO is not root (only root can switch users).
 */
export function sandboxUser(requested: Owner | undefined): Owner | undefined {
  if (process.getuid?.() !== 0) {
    if (requested !== undefined && requested.uid !== process.getuid?.()) {
      throw nonRetryable(
        FailureType.InvalidConfig,
        `The sandbox cannot run as uid ${requested.uid}: only root can switch users. Unset ADO_SANDBOX_UID to run sandboxes as yourself.`,
      );
    }
    return undefined;
  }
  const user = requested ?? DEFAULT_SANDBOX_USER;
  if (user.uid === 0 || user.gid === 0) {
    throw nonRetryable(
      FailureType.InvalidConfig,
      'The sandbox must not run as root (uid/gid 0): the kernel does not apply the process limit to root. Choose an unprivileged ADO_SANDBOX_UID.',
    );
  }
  return user;
}


/**
 * Trees up to this many entries are changed in process (under a millisecond for a small
 * workspace); beyond, one `find … -exec chown` process is faster (measured on 20 000 entries:
 * 0.3 s against 1.4 s for lchown calls from node).
 */
const IN_PROCESS_ENTRIES = 256;

/** Which entries a change of owner to `owner` touches (see the module comment); those it has already are skipped. */
type Selection = { kind: 'unshared' } | { kind: 'owned-by'; owner: Owner };

/** `find` tests for `selection`, when changing to `owner`. */
function findTests(selection: Selection, owner: Owner): string[] {
  if (selection.kind === 'owned-by') return ['-uid', String(selection.owner.uid)];
  return ['(', '-type', 'd', '-o', '-links', '1', ')', '(', '!', '-uid', String(owner.uid), '-o', '!', '-gid', String(owner.gid), ')'];
}

function selects(selection: Selection, owner: Owner, info: { nlink: number; uid: number; gid: number; isDirectory(): boolean }): boolean {
  if (selection.kind === 'owned-by') return info.uid === selection.owner.uid;
  return (info.isDirectory() || info.nlink === 1) && (info.uid !== owner.uid || info.gid !== owner.gid);
}

/** `folder` and everything below it, or undefined when that is more than `max` entries. */
async function smallTree(folder: string, max: number): Promise<string[] | undefined> {
  const found = [folder];
  const folders = [folder];
  for (let current = folders.pop(); current !== undefined; current = folders.pop()) {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const entryPath = path.join(current, entry.name);
      found.push(entryPath);
      if (found.length > max) return undefined;
      // A Dirent describes the link itself: symlinked folders are not entered.
      if (entry.isDirectory()) folders.push(entryPath);
    }
  }
  return found;
}

/**
 * Changes the owner of the entries `selection` picks in `folder` and below without following
 * symlinks (`lchown`, `find -P … chown -h`), so a link the sandbox left behind cannot point the
 * change elsewhere.
 */
async function chownTree(folder: string, owner: Owner, selection: Selection): Promise<void> {
  const entries = await smallTree(folder, IN_PROCESS_ENTRIES);
  if (entries === undefined) {
    await run('find', ['-P', folder, ...findTests(selection, owner), '-exec', 'chown', '-h', `${owner.uid}:${owner.gid}`, '{}', '+']);
    return;
  }
  await Promise.all(
    entries.map(async (entry) => {
      if (selects(selection, owner, await lstat(entry))) await lchown(entry, owner.uid, owner.gid);
    }),
  );
}

/**
 * Throws a non-retryable `InvalidConfig` error when `owner` cannot traverse a folder above
 * `folder`, a real path (bwrap, running as that user, could not bind it).
 */
export async function assertReachable(folder: string, owner: Owner): Promise<void> {
  let current = path.dirname(folder);
  for (;;) {
    const info = await stat(current);
    const bit = info.uid === owner.uid ? 0o100 : info.gid === owner.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) {
      throw nonRetryable(
        FailureType.InvalidConfig,
        `The sandbox user (uid ${owner.uid}) cannot reach the workspace ${folder}: ${current} is not searchable by it. ` +
          `Keep workspaces under a folder others may traverse (set ADO_HOME, e.g. to /var/lib/ado), or chmod o+x ${current}.`,
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

interface Lease {
  count: number;
  /** Resolves to the owner to give the folder back to, once it belongs to the sandbox user. */
  ready: Promise<Owner>;
  /** Some run of this lease may write the folder: it is given back at the end. */
  writes: boolean;
  /** Some run of this lease leaves the folder to its caller to keep: it is given back (or stays lent). */
  kept: boolean;
}

export interface LeaseOptions {
  /** The run only reads the folder (it writes an overlay's upper folder): it may stay lent after (see the module comment). */
  readOnly?: boolean;
  /**
   * The caller removes the folder as soon as the run ends (an overlay's upper folder): nothing is
   * given back, which would cost a `chown` of everything the run wrote.
   */
  discarded?: boolean;
}

/** Every time this many more lent folders are remembered, those that no longer exist are forgotten. */
const LENT_KEPT = 256;

/**
 * Hands folders to one sandbox user. Runs sharing a folder share the change: the first takes
 * the folder, the last gives it back to the owner its top folder had.
 */
export class WorkspaceOwnership {
  private readonly leases = new Map<string, Lease>();
  /** Give-backs in progress: a new lease on the folder waits for them before reading its owner. */
  private readonly returning = new Map<string, Promise<void>>();
  /** Folders whose contents are left with the sandbox user after read-only runs, with their own owner and mode. */
  private readonly lent = new Map<string, { owner: Owner; mode: number }>();

  constructor(private readonly sandboxUser: Owner) {}

  /** Gives `folder` to the sandbox user; call the returned function when the run is over. */
  async lease(folder: string, options: LeaseOptions = {}): Promise<() => Promise<void>> {
    let lease = this.leases.get(folder);
    if (lease === undefined) {
      lease = { count: 0, ready: this.take(folder), writes: false, kept: false };
      this.leases.set(folder, lease);
    }
    lease.count += 1;
    if (options.readOnly !== true) lease.writes = true;
    if (options.discarded !== true) lease.kept = true;
    const current = lease;
    let original: Owner;
    try {
      original = await current.ready;
    } catch (error) {
      this.drop(folder, current);
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (!this.drop(folder, current) || this.isSandboxUser(original) || !current.kept) return;
      if (!current.writes) return this.keepLent(folder, original);
      const lent = this.lent.get(folder);
      this.lent.delete(folder);
      const giveBack = (async () => {
        await chownTree(folder, original, { kind: 'owned-by', owner: this.sandboxUser });
        if (lent !== undefined) await chmod(folder, lent.mode);
      })().finally(() => this.returning.delete(folder));
      this.returning.set(folder, giveBack);
      await giveBack;
    };
  }

  private async take(folder: string): Promise<Owner> {
    await this.returning.get(folder);
    const info = await stat(folder);
    const original = this.lent.get(folder)?.owner ?? { uid: info.uid, gid: info.gid };
    // A lent folder has only what was written in it since to hand over.
    if (!this.isSandboxUser(original)) await chownTree(folder, this.sandboxUser, { kind: 'unshared' });
    return original;
  }

  /**
   * Leaves what is in `folder` lent and closes the folder itself (see the module comment),
   * remembering its owner and mode; forgets folders that no longer exist when many are remembered.
   */
  private async keepLent(folder: string, original: Owner): Promise<void> {
    const known = this.lent.get(folder);
    const mode = known?.mode ?? (await lstat(folder)).mode & 0o7777;
    this.lent.set(folder, { owner: original, mode });
    await lchown(folder, original.uid, original.gid);
    await chmod(folder, mode & 0o700);
    // Once per LENT_KEPT new records, not at every release once there are that many.
    if (known !== undefined || this.lent.size % LENT_KEPT !== 0) return;
    for (const known of [...this.lent.keys()]) {
      if (!(await stat(known).then(() => true, () => false))) this.lent.delete(known);
    }
  }

  /** One run less on `folder`; true when it was the last. */
  private drop(folder: string, lease: Lease): boolean {
    lease.count -= 1;
    if (lease.count > 0) return false;
    if (this.leases.get(folder) === lease) this.leases.delete(folder);
    return true;
  }

  private isSandboxUser(owner: Owner): boolean {
    return owner.uid === this.sandboxUser.uid && owner.gid === this.sandboxUser.gid;
  }
}
