/**
 * `search`: a regular expression over the workspace's files with ripgrep (Debian package
 * `ripgrep`), or `git grep` where ripgrep is missing. The model first gets the matching files with
 * their match counts, and the lines only when it asks, so that a broad pattern costs a list of
 * names rather than thousands of lines; results too big even for that are cut with advice on how
 * to narrow them. Neither program follows symbolic links or reads `.git`.
 */
import { execFile } from 'node:child_process';
import type { AgentToolArgs } from '../domain/agent-tools';
import { git, GitCommandError } from '../workspace/git';
import { resolveInside } from '../workspace/paths';
import { clipLine } from './limits';
import { refused, type ToolContext, type ToolObservation } from './types';

/** Files listed at most; a pattern matching more is refused with advice. */
export const SEARCH_MAX_FILES = 200;
/** Matching lines shown at most with `show_lines`. */
export const SEARCH_MAX_LINES = 150;
const MAX_LINE_CHARS = 300;

export type SearchEngine = 'rg' | 'git';

let ripgrep: Promise<boolean> | undefined;

/** Whether `rg` runs on this machine (checked once per process). */
export function hasRipgrep(): Promise<boolean> {
  ripgrep ??= new Promise((resolve) => execFile('rg', ['--version'], (error) => resolve(error === null)));
  return ripgrep;
}

interface Matches {
  /** `path:count` per file, or `path:line:text` per line. */
  lines: string[];
  /** The regex did not compile, or the program failed: its message. */
  error?: string;
}

export async function search(args: AgentToolArgs<'search'>, ctx: ToolContext, engine?: SearchEngine): Promise<ToolObservation> {
  const where = args.path === undefined || args.path.replace(/\/+$/, '') === '.' ? '.' : args.path;
  if (where !== '.') await resolveInside(ctx.workspaceDir, where);
  const use = engine ?? ((await hasRipgrep()) ? 'rg' : 'git');
  const run = use === 'rg' ? ripgrepMatches : gitGrepMatches;
  const counts = await run(args, ctx.workspaceDir, where, false);
  if (counts.error) return refused(`search failed: ${counts.error}`);
  if (counts.lines.length === 0) return { ok: true, text: `No matches for /${args.pattern}/${scope(args, where)}.` };
  const files = counts.lines.map(splitCount).sort((a, b) => b.count - a.count || a.file.localeCompare(b.file));
  const total = files.reduce((sum, f) => sum + f.count, 0);
  const header = `${total} matches in ${files.length} files for /${args.pattern}/${scope(args, where)}`;
  if (files.length > SEARCH_MAX_FILES) {
    const top = files.slice(0, 20).map((f) => `${f.file}: ${f.count}`);
    return refused(
      `${header}: too many to list. The 20 files with the most matches:\n${top.join('\n')}\n` +
        'Narrow the search: a more specific pattern, a path (a folder) or a glob such as "*.ts".',
    );
  }
  if (!args.show_lines) {
    return { ok: true, text: [`${header} (count per file; set show_lines to see the lines):`, ...files.map((f) => `${f.file}: ${f.count}`)].join('\n') };
  }
  const matches = await run(args, ctx.workspaceDir, where, true);
  if (matches.error) return refused(`search failed: ${matches.error}`);
  const shown = matches.lines.slice(0, SEARCH_MAX_LINES).map((line) => clipLine(line, MAX_LINE_CHARS));
  const note =
    matches.lines.length > SEARCH_MAX_LINES
      ? [`[… ${matches.lines.length - SEARCH_MAX_LINES} more matching lines not shown; narrow the pattern, or search one file (path) at a time]`]
      : [];
  return { ok: true, text: [`${header}:`, ...shown, ...note].join('\n') };
}

function scope(args: AgentToolArgs<'search'>, where: string): string {
  return `${where === '.' ? '' : ` in ${where}`}${args.glob ? ` (files ${args.glob})` : ''}`;
}

function splitCount(line: string): { file: string; count: number } {
  const at = line.lastIndexOf(':');
  return { file: line.slice(0, at), count: Number(line.slice(at + 1)) };
}

function ripgrepMatches(args: AgentToolArgs<'search'>, cwd: string, where: string, lines: boolean): Promise<Matches> {
  const rgArgs = [
    '--no-config',
    '--hidden',
    '--glob=!.git/',
    '--color=never',
    '--no-messages',
    ...(args.case_insensitive ? ['--ignore-case'] : []),
    ...(args.glob ? [`--glob=${args.glob}`] : []),
    ...(lines ? ['--line-number', '--with-filename', '--no-heading', `--max-columns=${MAX_LINE_CHARS}`] : ['--count-matches', '--with-filename']),
    '--regexp',
    args.pattern,
    '--',
    where,
  ];
  return new Promise((resolve) => {
    execFile('rg', rgArgs, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      // Exit 1: no match. Exit 2: an error, such as a pattern that does not compile.
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      if (code !== 0 && code !== 1) {
        resolve({ lines: [], error: stderr.trim() || error?.message || 'ripgrep failed' });
        return;
      }
      resolve({ lines: outputLines(stdout).map((line) => line.replace(/^\.\//, '')) });
    });
  });
}

async function gitGrepMatches(args: AgentToolArgs<'search'>, cwd: string, where: string, lines: boolean): Promise<Matches> {
  const pathspec = args.glob ? [`:(glob)${where === '.' ? '' : `${where.replace(/\/+$/, '')}/`}${args.glob.includes('/') ? args.glob : `**/${args.glob}`}`] : [where];
  const grepArgs = ['grep', '--untracked', '-I', '-E', ...(args.case_insensitive ? ['-i'] : []), ...(lines ? ['-n'] : ['-c']), '-e', args.pattern, '--', ...pathspec];
  try {
    return { lines: outputLines(await git(grepArgs, { cwd })) };
  } catch (err) {
    // Exit 1: no match; errors (a pattern that does not compile) exit 128.
    if (err instanceof GitCommandError && err.exitCode === 1) return { lines: [] };
    if (err instanceof GitCommandError) return { lines: [], error: err.stderr.trim().split('\n')[0] ?? 'git grep failed' };
    throw err;
  }
}

function outputLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
