/**
 * What the bubblewrap sandbox's view is built from on this host: how the top-level program
 * folders exist (real folders, or merged-/usr symlinks), and where the running node toolchain
 * lives when it is not under /usr (e.g. /opt/hostedtoolcache on CI runners).
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** A top-level folder the sandbox shows: bound read-only, or recreated as the same symlink. */
export type RootEntry = { path: string; kind: 'dir' } | { path: string; kind: 'symlink'; target: string };

export interface HostLayout {
  /** /bin, /sbin, /lib, /lib32, /lib64, /libx32 as the host has them (/usr is always bound). */
  rootEntries: RootEntry[];
  /** Install prefix of the running node when it lies outside /usr; bound read-only, its bin first on PATH. */
  toolchainPrefix?: string;
  /** The running node's real path: visible inside the sandbox too (under /usr or the toolchain prefix). */
  node: string;
}

const ROOT_FOLDERS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

function rootEntry(folder: string): RootEntry | undefined {
  try {
    const stat = lstatSync(folder);
    if (stat.isSymbolicLink()) return { path: folder, kind: 'symlink', target: readlinkSync(folder) };
    if (stat.isDirectory()) return { path: folder, kind: 'dir' };
  } catch {
    // Not on this host (e.g. /libx32 outside x32 systems): nothing to show.
  }
  return undefined;
}

/** Reads the host's layout: a few `lstat`s, once per sandbox. */
export function detectHostLayout(nodeExecutable: string = process.execPath): HostLayout {
  const rootEntries = ROOT_FOLDERS.map(rootEntry).filter((entry) => entry !== undefined);
  const node = realpathSync(nodeExecutable);
  const prefix = path.dirname(path.dirname(node));
  const underUsr = prefix === '/usr' || prefix.startsWith('/usr/');
  return underUsr ? { rootEntries, node } : { rootEntries, toolchainPrefix: prefix, node };
}
