import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedRepo, pushChange, useGitTestFolder } from '../../test/helpers/git-repos';
import { createSandbox } from '../sandbox';
import { git } from './git';
import { dependencyCacheKey, setupKey, WarmWorkspaces } from './warm';

const work = useGitTestFolder('warm');
const workspaces = (workerId = 'w1') => new WarmWorkspaces({ root: path.join(work(), 'warm'), workerId });

describe('WarmWorkspaces', () => {
  it('keeps a task tree between activities: a new sha is checked out, uncommitted changes are dropped, excluded setup output stays', async () => {
    const ref = await importedRepo(work(), 'keep', { 'src/a.ts': 'export const a = 1;\n' });
    const pool = workspaces();
    const first = await pool.acquire('task-keep', ref);
    await mkdir(path.join(first.dir, 'node_modules', 'dep'), { recursive: true });
    await writeFile(path.join(first.dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    expect(await first.excludeUntracked()).toEqual(['node_modules/']);
    await writeFile(path.join(first.dir, 'src', 'a.ts'), 'half-applied edit of an attempt that died\n');
    await writeFile(path.join(first.dir, 'stray.txt'), 'left by that attempt\n');

    const next = await pushChange(work(), ref, 'ado/task-keep', { 'src/b.ts': 'export const b = 2;\n' });
    const again = await pool.acquire('task-keep', { ...ref, sha: next });
    expect(again).toBe(first);
    expect(again.sha).toBe(next);
    expect(await readFile(path.join(again.dir, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(existsSync(path.join(again.dir, 'src', 'b.ts'))).toBe(true);
    expect(existsSync(path.join(again.dir, 'stray.txt'))).toBe(false);
    expect(existsSync(path.join(again.dir, 'node_modules', 'dep', 'index.js'))).toBe(true);
    // The git directory is beside the tree, out of every sandboxed command's reach.
    expect(existsSync(path.join(again.dir, '.git'))).toBe(false);
    await writeFile(path.join(again.dir, 'src', 'c.ts'), 'export const c = 3;\n');
    const committed = await again.commitAndPush({ branch: 'ado/task-keep', message: 'iteration' });
    expect(await git(['show', '--name-only', '--format=', committed], { cwd: ref.remote })).toBe('src/c.ts');

    expect(await pool.release('task-keep')).toBe(true);
    expect(existsSync(path.dirname(again.dir))).toBe(false);
  });

  it('syncs to the commit it is at with one check (changes made since are dropped), and without one once its user vouched it only read', async () => {
    const ref = await importedRepo(work(), 'same', { 'src/a.ts': 'export const a = 1;\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-same', ref);
    const stray = path.join(tree.dir, 'stray.txt');
    await writeFile(path.join(tree.dir, 'src', 'a.ts'), 'changed\n');
    await writeFile(stray, 'left behind\n');
    await pool.acquire('task-same', ref);
    expect(await readFile(path.join(tree.dir, 'src', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(existsSync(stray)).toBe(false);

    tree.leftUnchanged();
    // Written behind the user's word: the next sync takes the word and does not look.
    await writeFile(stray, 'left behind\n');
    await pool.acquire('task-same', ref);
    expect(existsSync(stray)).toBe(true);
    // The word covers one sync: the one after looks again.
    await pool.acquire('task-same', ref);
    expect(existsSync(stray)).toBe(false);
    await pool.release('task-same');
  });

  it('keeps the index clean when a sandboxed run hands the tree to its user and back (ctime moves, content does not)', async () => {
    const ref = await importedRepo(work(), 'ctime', { 'src/a.ts': 'export const a = 1;\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-ctime', ref);
    const file = path.join(tree.dir, 'src', 'a.ts');
    const { uid, gid } = await stat(file);
    // What the ownership lease does to every file: any chown, even to the same owner, moves ctime
    // (git compares whole seconds).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await chown(file, uid, gid);
    const at = { cwd: tree.dir, env: { GIT_DIR: path.join(path.dirname(tree.dir), 'git'), GIT_WORK_TREE: tree.dir } };
    // Without a refresh, diff-files lists every entry whose stat data no longer matches the index.
    expect(await git(['diff-files', '--name-only'], at)).toBe('');
    await pool.release('task-ctime');
  });

  it('keeps one task out of another: a sandboxed command in one tree cannot read or write the other', async () => {
    const ref = await importedRepo(work(), 'apart', { 'README.md': '# apart\n' });
    await chmod(work(), 0o755);
    const pool = workspaces();
    const secret = await pool.acquire('task-secret', ref);
    await writeFile(path.join(secret.dir, 'secret.txt'), 'SECRET-41c2\n');
    const other = await pool.acquire('task-other', ref);
    expect(path.dirname(other.dir)).not.toBe(path.dirname(secret.dir));

    const sandbox = createSandbox({ backend: 'bubblewrap' });
    const read = await sandbox.run({ command: `cat ${secret.dir}/secret.txt; ls ${path.dirname(secret.dir)}`, workdir: other.dir });
    expect(read.exitCode).not.toBe(0);
    expect(read.output).not.toContain('SECRET-41c2');
    const gitDir = path.join(path.dirname(other.dir), 'git');
    const planted = await sandbox.run({ command: `echo 'touch /tmp/pwned' > ${gitDir}/hooks/post-checkout`, workdir: other.dir });
    expect(planted.exitCode).not.toBe(0);
    expect(existsSync(path.join(gitDir, 'hooks', 'post-checkout'))).toBe(false);
    await Promise.all([pool.release('task-secret'), pool.release('task-other')]);
  });

  it('after a command ran in the tree, puts back a committed file it rewrote keeping size, inode and mtime', async () => {
    const ref = await importedRepo(work(), 'same-stat', { 'state.txt': 'broken\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-same-stat', ref);
    const file = path.join(tree.dir, 'state.txt');
    // An mtime long before the index was written: git then trusts the file's stat data.
    const long = new Date('2020-01-01T00:00:00Z');
    await utimes(file, long, long);
    await tree.sync(ref.sha);
    const before = await stat(file);
    await writeFile(file, 'fixed.\n');
    await utimes(file, long, long);
    expect(await stat(file)).toMatchObject({ ino: before.ino, size: before.size, mtimeMs: before.mtimeMs });

    tree.ranCommands();
    await pool.acquire('task-same-stat', ref);
    expect(await readFile(file, 'utf8')).toBe('broken\n');
    await pool.release('task-same-stat');
  });

  it("before the tree is judged, drops what commands left in it, ignored or not, and keeps setup's output while they left it as it was", async () => {
    const ref = await importedRepo(work(), 'leftovers', { '.gitignore': 'node_modules/\n__pycache__/\n', 'app.py': 'print(1)\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-leftovers', ref);
    const at = (...parts: string[]) => path.join(tree.dir, ...parts);
    await mkdir(at('node_modules', 'dep'), { recursive: true });
    await writeFile(at('node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    await tree.keepSetupOutputs(await tree.untracked(), { linksReadOnly: false });

    // A run plants bytecode (ignored), a stray file, and adds a cache to node_modules.
    tree.ranCommands();
    await mkdir(at('__pycache__'));
    await writeFile(at('__pycache__', 'app.cpython-311.pyc'), 'planted');
    await writeFile(at('stray.txt'), 'left\n');
    await mkdir(at('node_modules', '.cache'));
    await writeFile(at('node_modules', '.cache', 'results.json'), '{}');
    await pool.acquire('task-leftovers', ref);
    // The next command still sees them; the judges do not.
    expect(existsSync(at('__pycache__'))).toBe(true);
    await tree.dropLeftovers();
    expect(existsSync(at('__pycache__'))).toBe(false);
    expect(existsSync(at('stray.txt'))).toBe(false);
    expect(existsSync(at('node_modules', '.cache'))).toBe(false);
    expect(await readFile(at('node_modules', 'dep', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(tree.setupOutputsLost).toBe(false);

    // A run replaces an installed file: what setup installed goes whole, and setup must run again.
    tree.ranCommands();
    await rm(at('node_modules', 'dep', 'index.js'));
    await writeFile(at('node_modules', 'dep', 'index.js'), 'module.exports = 2;\n');
    await pool.acquire('task-leftovers', ref);
    await tree.dropLeftovers();
    expect(existsSync(at('node_modules'))).toBe(false);
    expect(tree.setupOutputsLost).toBe(true);
    await pool.release('task-leftovers');
  });

  it('before the tree is judged, removes a planted .git and what a run put in a submodule folder', async () => {
    const ref = await importedRepo(work(), 'gitlinks', { 'app.js': '1\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-gitlinks', ref);
    // A submodule's gitlink, as a commit would have it (its folder is empty in a checkout).
    await git(['update-index', '--add', '--cacheinfo', `160000,${ref.sha},vendor/lib`], { cwd: tree.dir, env: { GIT_DIR: path.join(path.dirname(tree.dir), 'git'), GIT_WORK_TREE: tree.dir } });
    tree.ranCommands();
    await mkdir(path.join(tree.dir, 'vendor', 'lib'), { recursive: true });
    await writeFile(path.join(tree.dir, 'vendor', 'lib', 'index.js'), 'judged as if committed\n');
    await mkdir(path.join(tree.dir, '.git'));
    await writeFile(path.join(tree.dir, '.git', 'config'), '[core]\n\tfsmonitor = "touch /tmp/pwned"\n');
    await mkdir(path.join(tree.dir, 'src', '.git'), { recursive: true });
    await tree.dropLeftovers();
    expect(existsSync(path.join(tree.dir, '.git'))).toBe(false);
    expect(existsSync(path.join(tree.dir, 'src', '.git'))).toBe(false);
    expect(existsSync(path.join(tree.dir, 'vendor', 'lib', 'index.js'))).toBe(false);
    expect(await readFile(path.join(tree.dir, 'app.js'), 'utf8')).toBe('1\n');
    await pool.release('task-gitlinks');
  });

  it('notices an installed file rewritten in place with its size and mtime kept (its ctime moved)', async () => {
    const ref = await importedRepo(work(), 'rewritten', { 'app.js': '1\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-rewritten', ref);
    const file = path.join(tree.dir, 'node_modules', 'dep.js');
    await mkdir(path.dirname(file));
    await writeFile(file, 'honest\n');
    await tree.keepSetupOutputs(await tree.untracked(), { linksReadOnly: false });
    const before = await stat(file);
    tree.ranCommands();
    await writeFile(file, 'trojan\n');
    await utimes(file, before.atime, before.mtime);
    await pool.acquire('task-rewritten', ref);
    await tree.dropLeftovers();
    expect(tree.setupOutputsLost).toBe(true);
    expect(existsSync(file)).toBe(false);
    await pool.release('task-rewritten');
  });

  it("compares the tree's bytes with the commit's, whatever the repository's .gitattributes convert", async () => {
    const ref = await importedRepo(work(), 'attributes', { '.gitattributes': '*.js ident\n* text=auto\n', 'a.js': '/* $Id$ */\n', 'b.txt': 'line\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-attributes', ref);
    tree.ranCommands();
    // ident would clean "$Id: … $" back to "$Id$", and text=auto would turn CRLF into LF: both unseen.
    await writeFile(path.join(tree.dir, 'a.js'), '/* $Id: */ globalThis.pwned = 1; /* $ */\n');
    await writeFile(path.join(tree.dir, 'b.txt'), 'line\r\n');
    await pool.acquire('task-attributes', ref);
    expect(await readFile(path.join(tree.dir, 'a.js'), 'utf8')).toBe('/* $Id$ */\n');
    expect(await readFile(path.join(tree.dir, 'b.txt'), 'utf8')).toBe('line\n');
    await pool.release('task-attributes');
  });

  it("lets one use of a task's tree run at a time, whatever the earlier one's outcome, and other tasks' at once", async () => {
    const pool = workspaces();
    const order: string[] = [];
    const use = (name: string, ms: number, fail = false) => async () => {
      order.push(`${name} starts`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      order.push(`${name} ends`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const first = pool.exclusive('task-a', use('first', 60, true));
    const second = pool.exclusive('task-a', use('second', 10));
    const other = pool.exclusive('task-b', use('other', 10));
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe('second');
    expect(await other).toBe('other');
    expect(order).toEqual(['first starts', 'other starts', 'other ends', 'first ends', 'second starts', 'second ends']);
  });

  it('sweeps workspaces whose owner process is gone, and keeps the ones this process holds', async () => {
    const ref = await importedRepo(work(), 'sweep', { 'README.md': '# sweep\n' });
    const crashed = workspaces('crashed');
    const left = await crashed.acquire('task-left', ref);
    const ownerFile = path.join(path.dirname(left.dir), 'owner.json');
    const owner = JSON.parse(await readFile(ownerFile, 'utf8')) as { pid: number };
    // A pid no process has: the owner died with the worker.
    await writeFile(ownerFile, JSON.stringify({ ...owner, pid: 2 ** 22 + 1 }));

    const alive = workspaces('alive');
    const held = await alive.acquire('task-held', ref);
    expect(await alive.sweep()).toEqual([path.dirname(left.dir)]);
    expect(existsSync(left.dir)).toBe(false);
    expect(existsSync(held.dir)).toBe(true);
    // Too old counts as gone, whoever holds it.
    expect(await workspaces('other').sweep(Date.now() + 25 * 3_600_000)).toEqual([path.dirname(held.dir)]);
  });

  it("keys a task's setup by its command and the dependency files, the dependency cache by the whole tree: a source edit changes only the cache key", async () => {
    const ref = await importedRepo(work(), 'key', { 'package.json': '{"name":"k"}\n', 'package-lock.json': '{"v":1}\n', 'src/a.ts': '1\n' });
    const pool = workspaces();
    const tree = await pool.acquire('task-key', ref);
    const base = await setupKey(tree, 'npm ci');
    const cacheBase = await dependencyCacheKey(tree, 'npm ci');
    expect(await setupKey(tree, 'npm install')).not.toBe(base);
    expect(await dependencyCacheKey(tree, 'npm install')).not.toBe(cacheBase);
    await tree.sync(await pushChange(work(), ref, 'ado/task-key', { 'src/a.ts': '2\n' }));
    expect(await setupKey(tree, 'npm ci')).toBe(base);
    expect(await dependencyCacheKey(tree, 'npm ci')).not.toBe(cacheBase);
    await tree.sync(await pushChange(work(), { ...ref, sha: tree.sha }, 'ado/task-key', { 'packages/a/package.json': '{"name":"a"}\n' }));
    const withPackage = await setupKey(tree, 'npm ci');
    // A manifest in a folder counts too (a monorepo's package).
    expect(withPackage).not.toBe(base);
    await tree.sync(await pushChange(work(), { ...ref, sha: tree.sha }, 'ado/task-key', { 'package-lock.json': '{"v":2}\n' }));
    expect(await setupKey(tree, 'npm ci')).not.toBe(withPackage);
    await pool.release('task-key');
  });

  // As root, runs are nobody's: the condition under which trees may share cached files.
  it.runIf(process.getuid?.() === 0)('reuses what setup installed in another task from the same tree by hard links no run can write through, and not in another tree', async () => {
    await chmod(work(), 0o755);
    const ref = await importedRepo(work(), 'cache', { '.gitignore': 'node_modules/\n', 'package-lock.json': '{"v":1}\n', 'src/a.js': '1\n' });
    const pool = workspaces();
    const sandbox = createSandbox({ backend: 'bubblewrap' });
    const first = await pool.acquire('task-first', ref);
    const installed = await sandbox.run({ command: 'mkdir -p node_modules/dep && echo v1 > node_modules/dep/index.js', workdir: first.dir });
    expect(installed.exitCode).toBe(0);
    await writeFile(path.join(first.dir, 'notes.txt'), 'task-first only\n');
    const key = await dependencyCacheKey(first, 'npm ci');
    await pool.cacheDependencies(first, key);

    const second = await pool.acquire('task-second', ref);
    expect(await pool.restoreDependencies(second, key)).toBe(true);
    expect(await readFile(path.join(second.dir, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('v1\n');
    // Only what setup installed came along: the other task's own files did not.
    expect(existsSync(path.join(second.dir, 'notes.txt'))).toBe(false);
    // A run in the second tree cannot write the shared file; replacing it changes its own tree only.
    const attack = await sandbox.run({
      command: 'echo tampered >> node_modules/dep/index.js; chmod 666 node_modules/dep/index.js; rm node_modules/dep/index.js && echo mine > node_modules/dep/index.js',
      workdir: second.dir,
    });
    expect(attack.exitCode).toBe(0);
    expect(attack.output).toMatch(/Permission denied|Operation not permitted/);
    expect(await readFile(path.join(second.dir, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('mine\n');
    expect(await readFile(path.join(first.dir, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('v1\n');
    const third = await pool.acquire('task-third', ref);
    expect(await pool.restoreDependencies(third, key)).toBe(true);
    expect(await readFile(path.join(third.dir, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe('v1\n');

    // Another tree is another key: nothing cached, setup has to run.
    await third.sync(await pushChange(work(), ref, 'ado/task-third', { 'src/a.js': '2\n' }));
    expect(await pool.restoreDependencies(third, await dependencyCacheKey(third, 'npm ci'))).toBe(false);
    await Promise.all(['task-first', 'task-second', 'task-third'].map((task) => pool.release(task)));
    // However old, the cache of a worker that runs is in use: another worker's sweep keeps it.
    expect(await workspaces('other').sweep(Date.now() + 25 * 3_600_000)).toEqual([]);
  });
});
