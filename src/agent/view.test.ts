import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useAgentWorkspace } from '../../test/helpers/agent-workspace';
import { runTool } from './run-tool';
import { VIEW_MAX_LINES } from './view';

const longFile = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`).join('\n');
const ctx = useAgentWorkspace({ 'src/a.ts': 'export const a = 1;\nexport const b = 2;\n', 'src/deep/x/y.ts': 'y', 'long.txt': longFile, 'node_modules/p/index.js': '' });
const view = (args: { path: string; view_range?: [number, number] }) => runTool({ id: 'c', name: 'view', args }, ctx());

describe('view', () => {
  it('shows a file with line numbers', async () => {
    const out = await view({ path: 'src/a.ts' });
    expect(out.ok).toBe(true);
    expect(out.text).toBe('     1\texport const a = 1;\n     2\texport const b = 2;');
  });

  it('shows a line range, -1 meaning the end', async () => {
    expect((await view({ path: 'long.txt', view_range: [10, 12] })).text).toBe('    10\tline 10\n    11\tline 11\n    12\tline 12');
    expect((await view({ path: 'long.txt', view_range: [999, -1] })).text).toBe('   999\tline 999\n  1000\tline 1000');
  });

  it('cuts a long file and says which range to ask for next', async () => {
    const out = await view({ path: 'long.txt' });
    const lines = out.text.split('\n');
    expect(lines).toHaveLength(VIEW_MAX_LINES + 1);
    expect(lines.at(-1)).toContain(`view_range [${VIEW_MAX_LINES + 1}, ${2 * VIEW_MAX_LINES}]`);
  });

  it('lists a folder two levels deep without .git and without opening node_modules', async () => {
    const out = await view({ path: '.' });
    expect(out.text.split('\n')).toEqual(['Files and folders in ., two levels deep:', 'long.txt', 'node_modules/', 'src/', 'src/a.ts', 'src/deep/']);
  });

  it('refuses .git, paths outside the workspace and symbolic links, and says why', async () => {
    const outside = `${ctx().workspaceDir}-outside`;
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'secret.txt'), 'host secret');
    await symlink(outside, path.join(ctx().workspaceDir, 'link'));
    for (const [p, reason] of [
      ['.git/config', 'under .git'],
      ['../x', '".." is not allowed'],
      ['/etc/passwd', 'absolute paths'],
      ['link/secret.txt', 'symbolic link'],
    ] as const) {
      const out = await view({ path: p });
      expect(out.ok, p).toBe(false);
      expect(out.text, p).toContain(reason);
      expect(out.text).not.toContain('host secret');
    }
  });

  it('says when a file does not exist or a range is outside it', async () => {
    expect((await view({ path: 'nope.ts' })).text).toContain('does not exist');
    expect((await view({ path: 'src/a.ts', view_range: [5, 6] })).text).toContain('has 2 lines');
  });
});
