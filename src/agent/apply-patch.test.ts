import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useAgentWorkspace } from '../../test/helpers/agent-workspace';
import { parsePatch, PatchError } from './apply-patch';
import { runTool } from './run-tool';

const ctx = useAgentWorkspace({
  'src/app.ts': 'export function main() {\n  const a = 1;\n  const b = 2;\n  return a + b;\n}\n\nexport function other() {\n  const b = 2;\n}\n',
  'src/old.ts': 'old\n',
  'src/moved.ts': 'x\n',
});
const patch = (text: string) => runTool({ id: 'p', name: 'apply_patch', args: { patch: text } }, ctx());
const read = (p: string) => readFile(path.join(ctx().workspaceDir, p), 'utf8');
const exists = (p: string) => stat(path.join(ctx().workspaceDir, p)).then(() => true, () => false);

describe('apply_patch', () => {
  it('updates (after an @@ anchor), adds, deletes and moves files in one patch', async () => {
    const out = await patch(
      [
        '*** Begin Patch',
        '*** Update File: src/app.ts',
        '@@ export function other() {',
        '-  const b = 2;',
        '+  const b = 3;',
        '*** Add File: src/new.ts',
        '+export const n = 1;',
        '*** Delete File: src/old.ts',
        '*** Update File: src/moved.ts',
        '*** Move to: src/lib/moved.ts',
        '*** End Patch',
      ].join('\n'),
    );
    expect(out.ok, out.text).toBe(true);
    expect(out.changed).toEqual(['src/app.ts', 'src/new.ts', 'src/old.ts', 'src/moved.ts', 'src/lib/moved.ts']);
    expect(await read('src/app.ts')).toContain('  const b = 2;\n  return a + b;\n}\n\nexport function other() {\n  const b = 3;\n}\n');
    expect(await read('src/new.ts')).toBe('export const n = 1;\n');
    expect(await exists('src/old.ts')).toBe(false);
    expect(await read('src/lib/moved.ts')).toBe('x\n');
  });

  it('applies nothing when one hunk does not match, and says which', async () => {
    const before = await read('src/app.ts');
    const out = await patch(['*** Begin Patch', '*** Add File: src/other-new.ts', '+x', '*** Update File: src/app.ts', '@@', '-  const zzz = 9;', '+  const zzz = 10;', '*** End Patch'].join('\n'));
    expect(out.ok).toBe(false);
    expect(out.text).toContain('hunk 1 of src/app.ts');
    expect(await read('src/app.ts')).toBe(before);
    expect(await exists('src/other-new.ts')).toBe(false);
  });

  it('tolerates wrong indentation of context lines', async () => {
    const out = await patch(['*** Begin Patch', '*** Update File: src/app.ts', ' const a = 1;', '-const b = 2;', '+  const b = 20;', '*** End Patch'].join('\n'));
    expect(out.ok, out.text).toBe(true);
    expect(await read('src/app.ts')).toContain('  const a = 1;\n  const b = 20;\n  return a + b;');
  });

  it('refuses a patch into .git', async () => {
    const out = await patch(['*** Begin Patch', '*** Add File: .git/hooks/post-checkout', '+#!/bin/sh', '*** End Patch'].join('\n'));
    expect(out).toMatchObject({ ok: false });
    expect(out.text).toContain('under .git');
  });

  it('explains format errors', () => {
    expect(() => parsePatch('*** Update File: a')).toThrow(PatchError);
    expect(() => parsePatch('*** Begin Patch\n*** Add File: a\nno plus\n*** End Patch')).toThrow('starts with "+"');
    expect(() => parsePatch('*** Begin Patch\n*** Frobnicate: a\n*** End Patch')).toThrow('expected "*** Add File:"');
  });
});
