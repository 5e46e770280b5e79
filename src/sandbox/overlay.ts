/**
 * Copy-on-write views of a workspace, for runs that must not change it (a quality gate's private
 * tree): an overlay mount whose read-only lower layer is the workspace and whose upper layer, a
 * fresh folder, takes every write of the run. Making one costs a mount where a copy costs a file
 * per file (seconds for 20,000 files on ext4, workspace-copy.ts), and what the run writes lands in
 * the upper folder only, so the workspace cannot be changed through it.
 *
 * The mount is made by root in a mount namespace of the run's own (`unshare --mount`) just before
 * the sandbox starts, and the command then drops to the sandbox user (`setpriv`): the mount goes
 * with the run's last process, so a worker killed mid-run leaves folders for the sweep and no mount.
 * Overlays need root, overlayfs in the kernel (Linux 5.10 or later: views are `volatile`) and an
 * upper file system that can hold one (not an overlay itself, as a container's root often is): `OverlaySupport` tries one once
 * per file system, and where it fails, gates copy.
 */
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import which from 'which';
import type { Owner } from './ownership';
import { folderBeside } from './workspace-copy';

const run = promisify(execFile);

/** The folders of one overlay view, side by side on one file system (`withOverlayFolders`). */
export interface OverlayFolders {
  /** Takes what the run writes; its own files shadow the workspace's (a caller may put some there first). */
  upper: string;
  /** overlayfs' own scratch folder: empty, on the upper folder's file system. */
  work: string;
  /** Where the view is mounted, inside the run's mount namespace only. */
  merged: string;
}

/** Host programs an overlay run needs besides the sandbox's own. */
export interface OverlayTools {
  unshare: string;
  mount: string;
  setpriv: string;
}

/** The overlay tools on `searchPath` (util-linux has them all), or undefined when one is missing. */
export function findOverlayTools(searchPath: string | undefined): OverlayTools | undefined {
  const [unshare, mount, setpriv] = ['unshare', 'mount', 'setpriv'].map((name) => which.sync(name, { nothrow: true, path: searchPath }));
  return unshare && mount && setpriv ? { unshare, mount, setpriv } : undefined;
}

/**
 * Runs `use` on fresh overlay folders beside `workdir` (named after `label`) and removes them
 * afterwards. The upper folder has the workspace's permissions: the view's top folder is its.
 */
export async function withOverlayFolders<T>(workdir: string, label: string, use: (folders: OverlayFolders) => Promise<T>): Promise<T> {
  const top = await folderBeside(workdir, label);
  try {
    // The sandbox user must reach the mount point; nothing else here is its business.
    await chmod(top, 0o711);
    const folders: OverlayFolders = { upper: path.join(top, 'upper'), work: path.join(top, 'work'), merged: path.join(top, 'merged') };
    await mkdir(folders.upper, { mode: 0o700 });
    await chmod(folders.upper, (await lstat(workdir)).mode & 0o7777);
    await mkdir(folders.work, { mode: 0o700 });
    await mkdir(folders.merged, { mode: 0o755 });
    return await use(folders);
  } finally {
    await rm(top, { recursive: true, force: true });
  }
}

/** Characters the overlay option syntax gives a meaning to; paths holding one get no overlay. */
const UNESCAPED = /[,:\\]/;

/**
 * The `-o` options of an overlay of `lower` on `folders`. Throws when a path holds `,` `:` or `\`
 * (`OverlaySupport.usable` says no to such workspaces; the folders' own names never hold one).
 */
export function overlayMountOptions(lower: string, folders: OverlayFolders): string {
  const paths = [lower, folders.upper, folders.work];
  if (paths.some((p) => UNESCAPED.test(p))) throw new Error(`An overlay cannot be mounted on ${JSON.stringify(paths)}: a path holds one of , : \\`);
  // volatile: no syncs of the upper file system, which the view's folders are thrown away with
  // (without it, each mount waits for every dirty file there: 87 ms after writing 6,000 files).
  // redirect_dir=on: a folder of the workspace can be renamed (else EXDEV, which tools that
  // rename folders do not expect); only overlayfs writes the upper folder's redirects.
  return `lowerdir=${lower},upperdir=${folders.upper},workdir=${folders.work},volatile,redirect_dir=on`;
}

/** How a run whose view could not be mounted begins its output (the run is then a `spawn-error`, stop-reason.ts). */
export const OVERLAY_SETUP_FAILED = 'ado: the overlay view could not be mounted: ';

/**
 * Mounts with `$1` (the mount program) and `$2` (options) on `$3`, then runs the rest of the
 * arguments in its place; a failed mount says so in the words of `OVERLAY_SETUP_FAILED`.
 */
const MOUNT_THEN_EXEC = `why=$("$1" -t overlay overlay -o "$2" "$3" 2>&1) || { echo "${OVERLAY_SETUP_FAILED}$why" >&2; exit 1; }; shift 3; exec "$@"`;

/**
 * The command line that runs `file args` as `user` on an overlay mounted at `merged` in a mount
 * namespace of its own (exec all the way: the process started is the one that ends up as `file`).
 */
export function overlayCommand(tools: OverlayTools, options: string, merged: string, user: Owner, file: string, args: readonly string[]): { file: string; args: string[] } {
  const dropToUser = [tools.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'];
  return {
    file: tools.unshare,
    args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', MOUNT_THEN_EXEC, 'sh', tools.mount, options, merged, ...dropToUser, file, ...args],
  };
}

/** Whether overlay views work beside a folder, tried once per file system. */
export class OverlaySupport {
  private readonly known = new Map<number, Promise<boolean>>();

  constructor(private readonly tools: OverlayTools | undefined) {}

  /** True when an overlay of `workdir` with its folders beside it can be mounted. */
  async usable(workdir: string): Promise<boolean> {
    if (this.tools === undefined || process.getuid?.() !== 0 || UNESCAPED.test(workdir)) return false;
    const device = (await lstat(path.dirname(workdir))).dev;
    let answer = this.known.get(device);
    if (answer === undefined) {
      answer = this.tryOne(workdir, this.tools);
      this.known.set(device, answer);
    }
    return answer;
  }

  /** Mounts an overlay of `workdir` beside it, dropped at once with its namespace. */
  private async tryOne(workdir: string, tools: OverlayTools): Promise<boolean> {
    return withOverlayFolders(workdir, 'overlay-probe', async (folders) => {
      try {
        await run(tools.unshare, ['--mount', '--propagation', 'private', '--', tools.mount, '-t', 'overlay', 'overlay', '-o', overlayMountOptions(workdir, folders), folders.merged]);
        return true;
      } catch {
        return false;
      }
    });
  }
}
