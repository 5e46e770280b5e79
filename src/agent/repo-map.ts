/**
 * `repo_map`: a ranked outline of the repository's definitions within a token budget, after
 * Aider's repository map. tree-sitter (web-tree-sitter with the grammars of
 * @vscode/tree-sitter-wasm, whose wasm builds match its ABI) finds each file's definitions and the
 * identifiers it uses; a file that uses an identifier another file defines gets an edge to it, and
 * PageRank over that graph (personalised towards the files and names the task is about) says which
 * definitions matter most. The map lists as many of them as fit the budget, counted with a real
 * tokenizer. A file's tags are cached by the hash of its content, so a second map of a mostly
 * unchanged repository only reads and hashes files.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { countTokens } from 'gpt-tokenizer';
import { Language, Parser, Query } from 'web-tree-sitter';
import type { AgentToolArgs } from '../domain/agent-tools';
import { workspaceFiles } from './find-files';
import { clipLine } from './limits';
import type { ToolContext, ToolObservation } from './types';

/** A definition: its name, 1-based line and the line's text. */
export interface Definition {
  name: string;
  line: number;
  text: string;
}

/** What one file defines and which identifiers it uses how often. */
export interface FileTags {
  defs: Definition[];
  refs: Record<string, number>;
}

type LanguageName = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go';

const LANGUAGE_OF: Record<string, LanguageName> = {
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.js': 'javascript',
  '.jsx': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.py': 'python',
  '.go': 'go',
};

const TS_QUERY = `
(function_declaration name: (identifier) @def)
(class_declaration name: (type_identifier) @def)
(abstract_class_declaration name: (type_identifier) @def)
(interface_declaration name: (type_identifier) @def)
(type_alias_declaration name: (type_identifier) @def)
(enum_declaration name: (identifier) @def)
(method_definition name: (property_identifier) @def)
(program (lexical_declaration (variable_declarator name: (identifier) @def)))
(export_statement (lexical_declaration (variable_declarator name: (identifier) @def)))
(identifier) @ref
(type_identifier) @ref
(property_identifier) @ref`;

/** Tag queries: `@def` names a definition, `@ref` any identifier used. */
const QUERIES: Record<LanguageName, string> = {
  typescript: TS_QUERY,
  tsx: TS_QUERY,
  javascript: `
(function_declaration name: (identifier) @def)
(class_declaration name: (identifier) @def)
(method_definition name: (property_identifier) @def)
(program (lexical_declaration (variable_declarator name: (identifier) @def)))
(export_statement (lexical_declaration (variable_declarator name: (identifier) @def)))
(identifier) @ref
(property_identifier) @ref`,
  python: `
(function_definition name: (identifier) @def)
(class_definition name: (identifier) @def)
(module (expression_statement (assignment left: (identifier) @def)))
(identifier) @ref`,
  go: `
(function_declaration name: (identifier) @def)
(method_declaration name: (field_identifier) @def)
(type_spec name: (type_identifier) @def)
(identifier) @ref
(type_identifier) @ref
(field_identifier) @ref`,
};

/** Files larger than this are generated or minified more often than not: skipped. */
const MAX_FILE_BYTES = 256 * 1024;
const MAX_DEF_LINE_CHARS = 120;
/** Names defined in more files than this add no edges. */
const MAX_DEFINERS = 20;
/** Default budget of the map, in tokens. */
export const REPO_MAP_DEFAULT_TOKENS = 2048;

interface LoadedLanguage {
  parser: Parser;
  query: Query;
}

let loaded: Promise<Map<LanguageName, LoadedLanguage>> | undefined;

/** The parsers and queries, loaded once per process (the wasm modules take a while). */
function languages(): Promise<Map<LanguageName, LoadedLanguage>> {
  loaded ??= (async () => {
    await Parser.init();
    const wasmDir = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
    const entries = await Promise.all(
      (Object.keys(QUERIES) as LanguageName[]).map(async (name) => {
        const language = await Language.load(path.join(wasmDir, `tree-sitter-${name}.wasm`));
        const parser = new Parser();
        parser.setLanguage(language);
        return [name, { parser, query: new Query(language, QUERIES[name]) }] as const;
      }),
    );
    return new Map(entries);
  })();
  return loaded;
}

/** Tags by content hash; bounded, the oldest entries dropped first. */
export class RepoMapCache {
  private readonly entries = new Map<string, FileTags>();
  constructor(private readonly maxEntries = 100_000) {}

  get(key: string): FileTags | undefined {
    return this.entries.get(key);
  }

  set(key: string, tags: FileTags): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, tags);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The tags of one file's content. */
export async function tagsOf(language: LanguageName, content: string): Promise<FileTags> {
  const { parser, query } = (await languages()).get(language)!;
  const tree = parser.parse(content);
  if (!tree) return { defs: [], refs: {} };
  try {
    const lines = content.split('\n');
    const defs: Definition[] = [];
    const defAt = new Set<number>();
    const refs: Record<string, number> = {};
    const captures = query.captures(tree.rootNode);
    for (const capture of captures) {
      if (capture.name !== 'def') continue;
      const row = capture.node.startPosition.row;
      defAt.add(capture.node.startIndex);
      defs.push({ name: capture.node.text, line: row + 1, text: clipLine((lines[row] ?? '').trimEnd(), MAX_DEF_LINE_CHARS) });
    }
    for (const capture of captures) {
      if (capture.name !== 'ref' || defAt.has(capture.node.startIndex)) continue;
      const name = capture.node.text;
      refs[name] = (refs[name] ?? 0) + 1;
    }
    return { defs, refs };
  } finally {
    tree.delete();
  }
}

export interface RepoMapOptions {
  /** Files (paths) or identifiers to rank higher. */
  focus?: string[];
  maxTokens?: number;
  cache?: RepoMapCache;
}

export interface RepoMap {
  text: string;
  tokens: number;
  /** Files with a known language. */
  files: number;
  /** Of those, parsed now (the rest came from the cache). */
  parsed: number;
}

/** Builds the map of the files under `dir`; see the module comment. */
export async function buildRepoMap(dir: string, options: RepoMapOptions = {}): Promise<RepoMap> {
  const cache = options.cache ?? new RepoMapCache();
  const maxTokens = options.maxTokens ?? REPO_MAP_DEFAULT_TOKENS;
  const sources = (await workspaceFiles(dir, '*')).filter((file) => LANGUAGE_OF[path.extname(file)] !== undefined);
  const tags = new Map<string, FileTags>();
  let parsed = 0;
  for (let i = 0; i < sources.length; i += 64) {
    const batch = sources.slice(i, i + 64);
    const contents = await Promise.all(batch.map((file) => readSource(path.join(dir, file))));
    for (const [j, content] of contents.entries()) {
      if (content === null) continue;
      const file = batch[j]!;
      const language = LANGUAGE_OF[path.extname(file)]!;
      const key = createHash('sha256').update(language).update('\0').update(content).digest('hex');
      let fileTags = cache.get(key);
      if (!fileTags) {
        fileTags = await tagsOf(language, content);
        cache.set(key, fileTags);
        parsed++;
      }
      tags.set(file, fileTags);
    }
  }
  const ranked = rankDefinitions(tags, new Set(options.focus ?? []));
  const { text, tokens } = fitToBudget(ranked, tags, maxTokens, sources.length);
  return { text, tokens, files: sources.length, parsed };
}

async function readSource(file: string): Promise<string | null> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile() || info.size > MAX_FILE_BYTES) return null;
  const content = await readFile(file, 'utf8');
  return content.includes('\0') ? null : content;
}

interface RankedDefinition {
  file: string;
  name: string;
  rank: number;
}

/** Definitions (file, name) by PageRank of the reference graph, highest first. */
export function rankDefinitions(tags: ReadonlyMap<string, FileTags>, focus: ReadonlySet<string>): RankedDefinition[] {
  const definedIn = new Map<string, string[]>();
  for (const [file, t] of tags) {
    for (const name of new Set(t.defs.map((d) => d.name))) {
      const files = definedIn.get(name);
      if (files) files.push(file);
      else definedIn.set(name, [file]);
    }
  }
  // Edges referencing file -> defining file, one per identifier, weighted by how often it is used.
  const edges = new Map<string, { to: string; name: string; weight: number }[]>();
  for (const [file, t] of tags) {
    const out: { to: string; name: string; weight: number }[] = [];
    for (const [name, count] of Object.entries(t.refs)) {
      const definers = definedIn.get(name);
      // A name defined everywhere (`add`, `toString`, `__init__`) links every file to every other:
      // quadratic in edges and no help in telling which definition is meant.
      if (!definers || definers.length > MAX_DEFINERS) continue;
      let multiplier = focus.has(name) ? 10 : 1;
      if (name.startsWith('_')) multiplier *= 0.1;
      // A name defined in many files (`get`, `run`, `init`) says little about which one is meant.
      if (definers.length > 5) multiplier *= 0.1;
      for (const to of definers) if (to !== file) out.push({ to, name, weight: multiplier * Math.sqrt(count) });
    }
    edges.set(file, out);
  }
  const files = [...tags.keys()];
  const personal = new Map(files.map((f) => [f, focus.has(f) ? 100 : 1]));
  const rank = pageRank(files, edges, personal);

  const byDefinition = new Map<string, RankedDefinition>();
  const add = (file: string, name: string, amount: number) => {
    const key = `${file}\0${name}`;
    const entry = byDefinition.get(key) ?? { file, name, rank: 0 };
    entry.rank += amount;
    byDefinition.set(key, entry);
  };
  for (const [file, out] of edges) {
    const total = out.reduce((sum, e) => sum + e.weight, 0);
    for (const edge of out) add(edge.to, edge.name, (rank.get(file)! * edge.weight) / total);
  }
  // Definitions nobody references still belong on the map of a small repository, last; those in
  // focused files, or with a focused name, are what the task is about: first.
  for (const [file, t] of tags) {
    for (const def of t.defs) add(file, def.name, rank.get(file)! * (focus.has(file) || focus.has(def.name) ? 1 : 1e-6));
  }
  return [...byDefinition.values()].sort((a, b) => b.rank - a.rank || a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}

/** Personalised PageRank by power iteration; dangling files give their rank back to the personalisation. */
function pageRank(files: string[], edges: ReadonlyMap<string, { to: string; weight: number }[]>, personal: ReadonlyMap<string, number>): Map<string, number> {
  const damping = 0.85;
  const personalTotal = [...personal.values()].reduce((a, b) => a + b, 0) || 1;
  const p = new Map(files.map((f) => [f, (personal.get(f) ?? 0) / personalTotal]));
  let rank = new Map(files.map((f) => [f, 1 / (files.length || 1)]));
  const outTotal = new Map(files.map((f) => [f, (edges.get(f) ?? []).reduce((sum, e) => sum + e.weight, 0)]));
  for (let iteration = 0; iteration < 40; iteration++) {
    const next = new Map(files.map((f) => [f, 0]));
    let dangling = 0;
    for (const f of files) {
      const r = rank.get(f)!;
      const total = outTotal.get(f)!;
      if (total === 0) {
        dangling += r;
        continue;
      }
      for (const e of edges.get(f)!) next.set(e.to, next.get(e.to)! + (damping * r * e.weight) / total);
    }
    let delta = 0;
    for (const f of files) {
      const value = next.get(f)! + (damping * dangling + (1 - damping)) * p.get(f)!;
      delta += Math.abs(value - rank.get(f)!);
      next.set(f, value);
    }
    rank = next;
    if (delta < 1e-6) break;
  }
  return rank;
}

/** The most definitions whose rendering fits `maxTokens` (binary search over how many). */
function fitToBudget(ranked: RankedDefinition[], tags: ReadonlyMap<string, FileTags>, maxTokens: number, fileCount: number): { text: string; tokens: number } {
  let low = 0;
  let high = ranked.length;
  let best = { text: render([], tags, fileCount), tokens: 0 };
  best.tokens = countTokens(best.text);
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const text = render(ranked.slice(0, middle), tags, fileCount);
    const tokens = countTokens(text);
    if (tokens <= maxTokens) {
      best = { text, tokens };
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

function render(chosen: RankedDefinition[], tags: ReadonlyMap<string, FileTags>, fileCount: number): string {
  const byFile = new Map<string, Set<string>>();
  for (const def of chosen) byFile.set(def.file, (byFile.get(def.file) ?? new Set()).add(def.name));
  const out = [`Repository map: ${chosen.length} definitions in ${byFile.size} of ${fileCount} source files, most referenced first (view a file for the rest).`];
  for (const [file, names] of byFile) {
    out.push(`${file}:`);
    const defs = tags.get(file)!.defs.filter((d) => names.has(d.name)).sort((a, b) => a.line - b.line);
    const seen = new Set<number>();
    for (const def of defs) {
      if (seen.has(def.line)) continue;
      seen.add(def.line);
      out.push(`${String(def.line).padStart(6)}│ ${def.text}`);
    }
  }
  return out.join('\n');
}

export async function repoMap(args: AgentToolArgs<'repo_map'>, ctx: ToolContext): Promise<ToolObservation> {
  const map = await buildRepoMap(ctx.workspaceDir, { focus: args.focus, maxTokens: args.max_tokens, cache: ctx.repoMapCache });
  if (map.files === 0) return { ok: true, text: 'No TypeScript, JavaScript, Python or Go files here: use find_files and view instead.' };
  return { ok: true, text: map.text };
}
