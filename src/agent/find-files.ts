/**
 * `find_files`: the workspace's files whose path matches a glob, with ripgrep's file walk (which
 * honours .gitignore, so dependencies and build output stay out) or `git ls-files` without it.
 */
import { execFile } from 'node:child_process';
import type { AgentToolArgs } from '../domain/agent-tools';
import { git } from '../workspace/git';
import { hasRipgrep, type SearchEngine } from './search';
import type { ToolContext, ToolObservation } from './types';

/** Paths listed at most. */
export const FIND_MAX_FILES = 300;

export async function findFiles(args: AgentToolArgs<'find_files'>, ctx: ToolContext, engine?: SearchEngine): Promise<ToolObservation> {
  const files = await workspaceFiles(ctx.workspaceDir, args.glob, engine);
  if (files.length === 0) return { ok: true, text: `No files match ${args.glob}. A glob without "/" matches file names in any folder ("*.ts"); "**" crosses folders.` };
  const shown = files.slice(0, FIND_MAX_FILES);
  const note = files.length > FIND_MAX_FILES ? [`[… ${files.length - FIND_MAX_FILES} more; use a narrower glob]`] : [];
  return { ok: true, text: [`${files.length} files match ${args.glob}:`, ...shown, ...note].join('\n') };
}

/** The workspace's files matching `glob` (not ignored by .gitignore), sorted, relative to `dir`. */
export async function workspaceFiles(dir: string, glob: string, engine?: SearchEngine): Promise<string[]> {
  const use = engine ?? ((await hasRipgrep()) ? 'rg' : 'git');
  return (use === 'rg' ? await ripgrepFiles(glob, dir) : await gitFiles(glob, dir)).sort();
}

function ripgrepFiles(glob: string, cwd: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('rg', ['--no-config', '--files', '--hidden', '--glob=!.git/', `--glob=${glob}`], { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : error.code;
      if (code !== 0 && code !== 1) reject(new Error(`rg --files failed: ${stderr.trim() || error?.message}`));
      else resolve(stdout.split('\n').filter((line) => line !== ''));
    });
  });
}

async function gitFiles(glob: string, cwd: string): Promise<string[]> {
  const pattern = glob.includes('/') ? glob : `**/${glob}`;
  const out = await git(['ls-files', '--cached', '--others', '--exclude-standard', '--', `:(glob)${pattern}`], { cwd });
  return [...new Set(out.split('\n').filter((line) => line !== ''))];
}
