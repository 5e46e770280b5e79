import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDirs, tempDir, writeFiles } from '../../test/helpers/git-repos';
import { applyEdits } from './edits';

let dir: string;

beforeEach(async () => {
  dir = await tempDir('edits');
  await mkdir(path.join(dir, '.git'));
});
afterEach(() => removeDirs(dir));

const read = (rel: string) => readFile(path.join(dir, rel), 'utf8');

describe('applyEdits', () => {
  it('writes a new file in place of an edited one: a hard link shared with another tree keeps its content, the mode stays', async () => {
    await writeFiles(dir, { 'node_modules/tool/bin.sh': 'echo honest\n' });
    const shared = path.join(dir, '..', `${path.basename(dir)}-cache.sh`);
    await link(path.join(dir, 'node_modules/tool/bin.sh'), shared);
    await chmod(shared, 0o755);
    const result = await applyEdits(dir, [{ type: 'replace', path: 'node_modules/tool/bin.sh', search: 'honest', replace: 'trojan' }]);
    expect(result.errors).toEqual([]);
    expect(await read('node_modules/tool/bin.sh')).toBe('echo trojan\n');
    expect(await readFile(shared, 'utf8')).toBe('echo honest\n');
    expect((await stat(path.join(dir, 'node_modules/tool/bin.sh'))).mode & 0o777).toBe(0o755);
    await rm(shared);
  });

  it('applies valid replace, write and delete edits in order', async () => {
    await writeFiles(dir, { 'src/a.ts': 'const a = 1;\nconst b = 2;\n', 'old.txt': 'old\n' });

    const result = await applyEdits(dir, [
      { type: 'replace', path: 'src/a.ts', search: 'const b = 2;', replace: 'const b = 3;' },
      { type: 'write', path: 'src/deep/new.ts', content: 'export {};\n' },
      { type: 'replace', path: 'src/deep/new.ts', search: 'export {};', replace: 'export const n = 1;' },
      { type: 'delete', path: 'old.txt' },
    ]);

    expect(result).toEqual({ applied: ['src/a.ts', 'src/deep/new.ts', 'old.txt'], errors: [] });
    expect(await read('src/a.ts')).toBe('const a = 1;\nconst b = 3;\n');
    expect(await read('src/deep/new.ts')).toBe('export const n = 1;\n');
    expect(existsSync(path.join(dir, 'old.txt'))).toBe(false);
  });

  it('inserts replacement text literally, even with $ patterns', async () => {
    await writeFiles(dir, { 'a.js': 'x = 1;\n' });
    await applyEdits(dir, [{ type: 'replace', path: 'a.js', search: 'x = 1;', replace: "x = '$&$1';" }]);
    expect(await read('a.js')).toBe("x = '$&$1';\n");
  });

  it('returns malformed paths as structured errors and still applies the other edits', async () => {
    const result = await applyEdits(dir, [
      { type: 'write', path: '/etc/evil', content: 'x' },
      { type: 'write', path: '../outside.txt', content: 'x' },
      { type: 'write', path: 'src/../../outside.txt', content: 'x' },
      { type: 'write', path: '.git/hooks/pre-commit', content: 'x' },
      { type: 'write', path: '', content: 'x' },
      { type: 'write', path: 'ok.txt', content: 'fine\n' },
    ]);

    expect(result.applied).toEqual(['ok.txt']);
    expect(result.errors.map((e) => e.tool)).toEqual(['edit', 'edit', 'edit', 'edit', 'edit']);
    expect(result.errors.map((e) => e.message)).toEqual([
      'write /etc/evil: absolute paths are not allowed; give a path relative to the repository root',
      'write ../outside.txt: ".." is not allowed; give a path inside the repository',
      'write src/../../outside.txt: ".." is not allowed; give a path inside the repository',
      'write .git/hooks/pre-commit: files under .git cannot be changed',
      'write : empty path; give a path relative to the repository root',
    ]);
    expect(existsSync(path.join(dir, '..', 'outside.txt'))).toBe(false);
    expect(await read('ok.txt')).toBe('fine\n');
  });

  it('refuses to follow a symbolic link out of the workspace', async () => {
    const outside = await tempDir('outside');
    try {
      await symlink(outside, path.join(dir, 'link'));
      const result = await applyEdits(dir, [{ type: 'write', path: 'link/x.txt', content: 'x' }]);
      expect(result.errors).toEqual([
        { tool: 'edit', message: 'write link/x.txt: link is a symbolic link; ADO does not read or write through symbolic links (delete the link, then write a file there)' },
      ]);
      expect(existsSync(path.join(outside, 'x.txt'))).toBe(false);
    } finally {
      await removeDirs(outside);
    }
  });

  it('never reaches .git: not through a committed link to it, nor under another spelling of its name', async () => {
    await writeFiles(dir, { '.git/config': '[core]\n\tbare = false\n' });
    await symlink('.git', path.join(dir, 'g'));
    await symlink('.', path.join(dir, 'here'));
    const result = await applyEdits(dir, [
      { type: 'write', path: 'g/config', content: '[core]\n\tfsmonitor = "touch /tmp/pwned"\n' },
      { type: 'replace', path: 'g/config', search: 'bare = false', replace: 'bare = false\n\tfsmonitor = x' },
      { type: 'write', path: 'here/.git/hooks/post-commit', content: 'x' },
      { type: 'write', path: 'here/config', content: 'x' },
      { type: 'write', path: '.GIT/config', content: 'x' },
      { type: 'write', path: '.git./config', content: 'x' },
    ]);
    expect(result.applied).toEqual([]);
    expect(result.errors.map((e) => e.message.replace(/;.*/, ''))).toEqual([
      'write g/config: g is a symbolic link',
      'replace g/config: g is a symbolic link',
      'write here/.git/hooks/post-commit: files under .git cannot be changed',
      'write here/config: here is a symbolic link',
      'write .GIT/config: files under .git cannot be changed',
      'write .git./config: files under .git cannot be changed',
    ]);
    expect(await read('.git/config')).toBe('[core]\n\tbare = false\n');
  });

  it('does not write through a symbolic link at the end of the path, but deletes the link itself', async () => {
    await writeFiles(dir, { 'target.txt': 'kept\n' });
    await symlink('target.txt', path.join(dir, 'alias.txt'));
    const refused = await applyEdits(dir, [{ type: 'write', path: 'alias.txt', content: 'changed\n' }]);
    expect(refused.errors[0]?.message).toContain('alias.txt is a symbolic link');
    expect(await read('target.txt')).toBe('kept\n');

    const deleted = await applyEdits(dir, [{ type: 'delete', path: 'alias.txt' }, { type: 'write', path: 'alias.txt', content: 'a file now\n' }]);
    expect(deleted).toEqual({ applied: ['alias.txt'], errors: [] });
    expect(await read('alias.txt')).toBe('a file now\n');
    expect(await read('target.txt')).toBe('kept\n');
  });

  it('reports an ambiguous search with the number of matches and their lines', async () => {
    await writeFiles(dir, { 'a.ts': 'x();\ny();\nx();\nx();\n' });
    const result = await applyEdits(dir, [{ type: 'replace', path: 'a.ts', search: 'x();', replace: 'z();' }]);
    expect(result.applied).toEqual([]);
    expect(result.errors).toEqual([
      {
        tool: 'edit',
        message: 'replace a.ts: ambiguous: the search text occurs 3 times (lines 1, 3, 4); include more surrounding lines so that it matches exactly once',
      },
    ]);
    expect(await read('a.ts')).toBe('x();\ny();\nx();\nx();\n');
  });

  it('reports a search that does not occur with the closest lines of the file', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1};`);
    lines[9] = 'function total(items) {';
    await writeFiles(dir, { 'calc.js': `${lines.join('\n')}\n` });

    const result = await applyEdits(dir, [{ type: 'replace', path: 'calc.js', search: 'function totl(items) {\n  return 0;', replace: '' }]);

    expect(result.errors).toHaveLength(1);
    const message = result.errors[0]!.message;
    expect(message).toMatch(/^replace calc\.js: the search text does not occur in the file; the closest lines are:\n/);
    expect(message).toContain('   10| function total(items) {');
    expect(message).toContain('    8| line 8;');
    expect(message).not.toContain('line 1;');
  });

  it('reports replace and delete of a missing file', async () => {
    const result = await applyEdits(dir, [
      { type: 'replace', path: 'nope.ts', search: 'a', replace: 'b' },
      { type: 'delete', path: 'nope.ts' },
    ]);
    expect(result.errors.map((e) => e.message)).toEqual([
      'replace nope.ts: file not found; use a write edit to create it',
      'delete nope.ts: file not found; nothing to delete',
    ]);
  });

  it('tolerates trailing-whitespace and CRLF differences when the lines match otherwise', async () => {
    await writeFiles(dir, { 'win.txt': 'one\r\ntwo  \r\nthree\r\n', 'unix.txt': 'alpha\nbeta\t\ngamma\n' });

    const result = await applyEdits(dir, [
      { type: 'replace', path: 'win.txt', search: 'one\ntwo\n', replace: 'ONE\nTWO\n' },
      { type: 'replace', path: 'unix.txt', search: 'beta\r\ngamma', replace: 'BETA\ngamma' },
    ]);

    expect(result).toEqual({ applied: ['win.txt', 'unix.txt'], errors: [] });
    expect(await read('win.txt')).toBe('ONE\r\nTWO\r\nthree\r\n');
    expect(await read('unix.txt')).toBe('alpha\nBETA\ngamma\n');
  });

  it('does not loosen anything but line ends: indentation differences still fail', async () => {
    await writeFiles(dir, { 'a.py': 'def f():\n    return 1\n' });
    const result = await applyEdits(dir, [{ type: 'replace', path: 'a.py', search: 'def f():\n  return 1', replace: 'x' }]);
    expect(result.errors[0]?.message).toContain('does not occur');
    expect(await read('a.py')).toBe('def f():\n    return 1\n');
  });

  it('rejects an empty search text', async () => {
    await writeFiles(dir, { 'a.txt': 'a\n' });
    const result = await applyEdits(dir, [{ type: 'replace', path: 'a.txt', search: '', replace: 'b' }]);
    expect(result.errors[0]?.message).toBe('replace a.txt: the search text is empty; use a write edit to create or overwrite a file');
  });
});
