import { describe, expect, it } from 'vitest';
import { useAgentWorkspace } from '../../test/helpers/agent-workspace';
import { findFiles } from './find-files';
import { search, SEARCH_MAX_FILES, type SearchEngine } from './search';

const many = Object.fromEntries(Array.from({ length: SEARCH_MAX_FILES + 5 }, (_, i) => [`gen/f${i}.txt`, 'needle\n']));
const ctx = useAgentWorkspace({
  'src/signup.ts': 'export function validateEmail(e: string) {\n  return e.includes("@");\n}\n// validateEmail once more\n',
  'src/form.ts': 'import { validateEmail } from "./signup";\nvalidateEmail("x");\n',
  'src/other.py': 'def validate_email(e):\n    return "@" in e\n',
  'README.md': 'Nothing here.\n',
  ...many,
});

describe.each<SearchEngine>(['rg', 'git'])('search with %s', (engine) => {
  it('lists matching files with their counts first, most matches first', async () => {
    const out = await search({ pattern: 'validateEmail' }, ctx(), engine);
    expect(out.ok).toBe(true);
    expect(out.text.split('\n')).toEqual(['4 matches in 2 files for /validateEmail/ (count per file; set show_lines to see the lines):', 'src/form.ts: 2', 'src/signup.ts: 2']);
  });

  it('shows the lines with numbers on request, within a path and glob', async () => {
    const out = await search({ pattern: 'validate_?[eE]mail', path: 'src', glob: '*.py', show_lines: true }, ctx(), engine);
    expect(out.text.split('\n')).toEqual(['1 matches in 1 files for /validate_?[eE]mail/ in src (files *.py):', 'src/other.py:1:def validate_email(e):']);
  });

  it('says when nothing matches', async () => {
    expect((await search({ pattern: 'nothing_like_this' }, ctx(), engine)).text).toBe('No matches for /nothing_like_this/.');
  });

  it('refuses a result too big to list and advises how to narrow it', async () => {
    const out = await search({ pattern: 'needle' }, ctx(), engine);
    expect(out.ok).toBe(false);
    expect(out.text).toContain(`${SEARCH_MAX_FILES + 5} matches in ${SEARCH_MAX_FILES + 5} files`);
    expect(out.text).toContain('Narrow the search');
  });

  it('reports a pattern that does not compile', async () => {
    const out = await search({ pattern: '(unclosed' }, ctx(), engine);
    expect(out.ok).toBe(false);
    expect(out.text).toMatch(/search failed: .+/);
  });

  it('finds files by glob', async () => {
    expect((await findFiles({ glob: '*.ts' }, ctx(), engine)).text).toBe('2 files match *.ts:\nsrc/form.ts\nsrc/signup.ts');
    expect((await findFiles({ glob: 'src/*.py' }, ctx(), engine)).text).toBe('1 files match src/*.py:\nsrc/other.py');
  });
});

describe('search', () => {
  it('refuses a path outside the workspace', async () => {
    await expect(search({ pattern: 'x', path: '../' }, ctx())).rejects.toThrow('".." is not allowed');
  });
});
