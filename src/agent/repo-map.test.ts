import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { useAgentWorkspace } from '../../test/helpers/agent-workspace';
import { buildRepoMap, RepoMapCache, tagsOf } from './repo-map';

const users = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`src/feature${i}.ts`, `import { validateEmail } from './validate';\nexport function feature${i}(e: string) { return validateEmail(e); }\n`]));
const ctx = useAgentWorkspace({
  'src/validate.ts': 'export function validateEmail(e: string): boolean {\n  return e.includes("@");\n}\nexport function unused() {}\n',
  'src/lonely.ts': 'export class Lonely {\n  method() {}\n}\n',
  ...users(8),
  'py/app.py': 'class Store:\n    def save(self, x):\n        pass\n\ndef main():\n    Store().save(1)\n',
  'go/main.go': 'package main\n\ntype Server struct{}\n\nfunc (s Server) Start() {}\n\nfunc main() { Server{}.Start() }\n',
  'README.md': '# not code\n',
});

describe('repo map', () => {
  it('puts the most referenced definition first and shows its line', async () => {
    const map = await buildRepoMap(ctx().workspaceDir, { maxTokens: 4096 });
    const lines = map.text.split('\n');
    expect(lines[0]).toMatch(/^Repository map: \d+ definitions in \d+ of 12 source files/);
    expect(lines[1]).toBe('src/validate.ts:');
    expect(lines[2]).toBe('     1│ export function validateEmail(e: string): boolean {');
    expect(map.text).toContain('class Store:');
    expect(map.text).toContain('func (s Server) Start() {}');
  });

  it('stays within its token budget, counted with the tokenizer', async () => {
    const small = await buildRepoMap(ctx().workspaceDir, { maxTokens: 60 });
    expect(small.tokens).toBe(countTokens(small.text));
    expect(small.tokens).toBeLessThanOrEqual(60);
    expect(small.text).toContain('validateEmail');
    expect(small.text).not.toContain('Lonely');
  });

  it('ranks focused files higher', async () => {
    const map = await buildRepoMap(ctx().workspaceDir, { maxTokens: 4096, focus: ['src/lonely.ts'] });
    expect(map.text.split('\n')[1]).toBe('src/lonely.ts:');
  });

  it('parses a file once per content: a second map comes from the cache', async () => {
    const cache = new RepoMapCache();
    const first = await buildRepoMap(ctx().workspaceDir, { cache });
    const second = await buildRepoMap(ctx().workspaceDir, { cache });
    expect(first.parsed).toBe(12);
    expect(second.parsed).toBe(0);
    expect(second.text).toBe(first.text);
  });

  it('finds definitions in TypeScript, JavaScript, Python and Go, and uses apart from definitions', async () => {
    expect((await tagsOf('typescript', 'interface A {}\ntype B = A;\nenum C { X }\nexport const d = 1;')).defs.map((d) => d.name)).toEqual(['A', 'B', 'C', 'd']);
    expect((await tagsOf('javascript', 'class K { m() { f(); } }')).defs.map((d) => d.name)).toEqual(['K', 'm']);
    expect((await tagsOf('python', 'X = 1\ndef f():\n    return X')).refs).toEqual({ X: 1 });
    expect((await tagsOf('go', 'package p\ntype T struct{}\nfunc F() T { return T{} }')).defs.map((d) => d.name)).toEqual(['T', 'F']);
  });
});
