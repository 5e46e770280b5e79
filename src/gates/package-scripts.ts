/**
 * npm takes the commands it runs from the package.json in the folder it runs in: `npm test`,
 * `npm run lint`, and the install scripts `npm ci` runs for the repository itself. That file is
 * the commit under test's, which the model writes, so a gate named `npm test` in the base commit
 * would run whatever the model made `test` say. Before each run ADO gives the run's package.json
 * the base commit's scripts; the rest of the file (dependencies the model added) stays.
 */
import { constants } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Sets the `scripts` of `dir`/package.json to `scripts` (none left when `scripts` is empty),
 * writing the result to `into`/package.json (the overlay's upper folder when a run sees `dir`
 * through one; default `dir` itself). Without a package.json, or with one npm could not read
 * either, nothing changes. A package.json that is a symbolic link (left by a setup command, or
 * pointing at a file the model wrote) is replaced by a file holding the scripts only: nothing is
 * read through the link.
 */
export async function pinPackageScripts(dir: string, scripts: Record<string, string>, into = dir): Promise<void> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'package.json'), { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ELOOP') throw err;
    text = '{}';
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch {
    return;
  }
  if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) return;
  const { scripts: _theirs, ...rest } = pkg as Record<string, unknown>;
  const pinned = Object.keys(scripts).length > 0 ? { ...rest, scripts } : rest;
  const file = path.join(into, 'package.json');
  // A new file, never a write through the old one: a copy of the workspace may share it (a hard link).
  await rm(file, { force: true });
  await writeFile(file, `${JSON.stringify(pinned, null, 2)}\n`);
}
