import { readFile, symlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentToolCall } from '../domain/agent-tools';
import { useAgentWorkspace } from '../../test/helpers/agent-workspace';
import { runTool } from './run-tool';

const ctx = useAgentWorkspace({
  'src/signup.ts': 'export function signup(email: string) {\n  save(email);\n}\n\nexport function other() {\n  save(email);\n}\n',
  'src/pad.ts': 'const a = 1;   \nconst b = 2;\n',
});
const call = (c: Omit<AgentToolCall, 'id'>) => runTool({ id: 'c1', ...c } as AgentToolCall, ctx());
const read = (p: string) => readFile(path.join(ctx().workspaceDir, p), 'utf8');

describe('str_replace', () => {
  it('replaces the one occurrence and shows the result with line numbers', async () => {
    const out = await call({ name: 'str_replace', args: { path: 'src/signup.ts', old_str: 'export function signup(email: string) {\n  save(email);', new_str: 'export function signup(email: string) {\n  check(email);\n  save(email);' } });
    expect(out).toMatchObject({ ok: true, changed: ['src/signup.ts'] });
    expect(out.text).toContain('     2\t  check(email);');
    expect(await read('src/signup.ts')).toContain('  check(email);\n  save(email);\n}\n\nexport function other');
  });

  it('refuses text found several times and names the lines', async () => {
    const out = await call({ name: 'str_replace', args: { path: 'src/signup.ts', old_str: '  save(email);', new_str: 'x' } });
    expect(out.ok).toBe(false);
    expect(out.text).toContain('occurs 2 times in src/signup.ts (at lines 3, 7)');
  });

  it('refuses text not found and shows the closest lines', async () => {
    const out = await call({ name: 'str_replace', args: { path: 'src/signup.ts', old_str: 'export function othr() {', new_str: 'x' } });
    expect(out.ok).toBe(false);
    expect(out.text).toContain('old_str was not found in src/signup.ts');
    expect(out.text).toMatch(/6\| export function other\(\) \{/);
  });

  it('matches ignoring trailing whitespace when nothing matches exactly', async () => {
    const out = await call({ name: 'str_replace', args: { path: 'src/pad.ts', old_str: 'const a = 1;\nconst b = 2;', new_str: 'const a = 3;\nconst b = 4;' } });
    expect(out.ok).toBe(true);
    expect(out.text).toContain('ignoring trailing whitespace');
    expect(await read('src/pad.ts')).toBe('const a = 3;\nconst b = 4;\n');
  });

  it('says a missing file does not exist', async () => {
    expect((await call({ name: 'str_replace', args: { path: 'src/none.ts', old_str: 'a', new_str: 'b' } })).text).toContain('does not exist; use create');
  });
});

describe('create and insert', () => {
  it('creates a file in new folders, then inserts after a line', async () => {
    expect(await call({ name: 'create', args: { path: 'src/new/util.ts', file_text: 'a\nc\n' } })).toMatchObject({ ok: true, text: 'Created src/new/util.ts (2 lines).' });
    const out = await call({ name: 'insert', args: { path: 'src/new/util.ts', insert_line: 1, new_str: 'b' } });
    expect(out.ok).toBe(true);
    expect(await read('src/new/util.ts')).toBe('a\nb\nc\n');
    expect((await call({ name: 'insert', args: { path: 'src/new/util.ts', insert_line: 9, new_str: 'z' } })).text).toContain('insert_line must be between 0 and 3');
  });
});

describe('edits stay in the workspace', () => {
  it('refuses writes into .git, outside, and through a symbolic link, and changes nothing there', async () => {
    const outside = `${ctx().workspaceDir}-outside`;
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'victim.txt'), 'untouched');
    await symlink(outside, path.join(ctx().workspaceDir, 'escape'));
    const hooks = await call({ name: 'create', args: { path: '.git/hooks/pre-commit', file_text: '#!/bin/sh\necho pwned' } });
    expect(hooks).toMatchObject({ ok: false });
    expect(hooks.text).toContain('under .git');
    const viaLink = await call({ name: 'create', args: { path: 'escape/victim.txt', file_text: 'overwritten' } });
    expect(viaLink.text).toContain('symbolic link');
    const replaced = await call({ name: 'str_replace', args: { path: 'escape/victim.txt', old_str: 'untouched', new_str: 'changed' } });
    expect(replaced.ok).toBe(false);
    expect((await call({ name: 'create', args: { path: '../outside.txt', file_text: 'x' } })).ok).toBe(false);
    expect(await readFile(path.join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
  });
});
