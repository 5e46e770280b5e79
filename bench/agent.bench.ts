/**
 * The coding agent's repository map on generated TypeScript repositories of 500 and 20 000 files
 * (20 packages, each module defining a class and functions and calling those of two others): the
 * first map (every file parsed) against a second one from the content-hash cache (files read and
 * hashed only). What a tool call costs in process and through a session: bench/tool-call.bench.ts.
 * Target: the cached map of the large repository costs at most half of the first.
 *   usage: npx tsx bench/agent.bench.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildRepoMap, RepoMapCache } from '../src/agent/repo-map';
import { atMost, figure, printReport, type Figure } from './report';

const PACKAGES = 20;

function moduleSource(index: number, count: number): string {
  const a = (index * 7 + 3) % count;
  const b = (index * 13 + 5) % count;
  return [
    `import { run${a}, Store${a} } from '../../p${a % PACKAGES}/src/m${a}';`,
    `import { run${b} } from '../../p${b % PACKAGES}/src/m${b}';`,
    '',
    `export class Store${index} {`,
    `  private items: string[] = [];`,
    `  add(item: string): void {`,
    `    this.items.push(run${a}(item));`,
    `  }`,
    `}`,
    '',
    `export function run${index}(input: string): string {`,
    `  const store = new Store${a}();`,
    `  store.add(input);`,
    `  return run${b}(input).trim();`,
    `}`,
    '',
    `export const LIMIT_${index} = ${index};`,
    '',
  ].join('\n');
}

/** A generated repository of `count` modules in a new temp folder (not a git repository). */
export async function generateRepo(count: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ado-bench-map-${count}-`));
  for (let p = 0; p < PACKAGES; p++) await mkdir(path.join(dir, `p${p}`, 'src'), { recursive: true });
  for (let i = 0; i < count; i += 256) {
    await Promise.all(
      Array.from({ length: Math.min(256, count - i) }, (_, j) => {
        const index = i + j;
        return writeFile(path.join(dir, `p${index % PACKAGES}`, 'src', `m${index}.ts`), moduleSource(index, count));
      }),
    );
  }
  return dir;
}

async function timed<T>(action: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await action();
  return [performance.now() - started, result];
}

async function repoMapFigures(count: number): Promise<Figure[]> {
  const dir = await generateRepo(count);
  try {
    const cache = new RepoMapCache();
    const [firstMs, first] = await timed(() => buildRepoMap(dir, { cache }));
    const [cachedMs, cached] = await timed(() => buildRepoMap(dir, { cache }));
    if (cached.parsed !== 0 || cached.text !== first.text) throw new Error('the cached map parsed files again or differs from the first');
    return [
      figure(`repo_map ${count} files, first (${first.parsed} parsed, ${first.tokens} tokens)`, firstMs, 'ms'),
      figure(`repo_map ${count} files, cached`, cachedMs, 'ms'),
      figure(`repo_map ${count} files, cached / first`, cachedMs / firstMs, 'x', count >= 10_000 ? atMost(0.5) : undefined),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The agent figures, 500 files then 20 000. */
export async function runAgentBench(): Promise<Figure[]> {
  return [...(await repoMapFigures(500)), ...(await repoMapFigures(20_000))];
}

if (require.main === module) {
  runAgentBench()
    .then((figures) => printReport([{ name: 'coding agent', figures, notes: [] }]))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
