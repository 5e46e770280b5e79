/**
 * Which files of the repository a prompt carries: every tracked path (so the model knows what
 * exists) and the contents of the files that matter for this step — the manifest and readme,
 * and every file the plan, the subtasks or the previous errors name.
 */
import path from 'node:path';
import type { PromptFile } from '../llm/prompts';
import type { Workspace } from '../workspace/workspace';

const ALWAYS = ['package.json', 'pyproject.toml', 'Cargo.toml', 'go.mod', '.ado.yml', 'ado.config.json'];
const README = /^readme(\.md|\.txt)?$/i;
/** Files whose contents a prompt carries at most (the prompt builder also budgets characters). */
const MAX_WITH_CONTENT = 24;

/** `hints`: texts that may name files (plan, subtask file lists, error output). */
export async function promptFiles(workspace: Workspace, hints: readonly string[], options: { includeSmallRepo?: boolean } = {}): Promise<PromptFile[]> {
  const tracked = await workspace.listFiles();
  const text = hints.join('\n');
  const wanted = new Set<string>();
  for (const file of tracked) {
    if (ALWAYS.includes(file) || README.test(file)) wanted.add(file);
  }
  for (const file of tracked) {
    if (text.includes(file) || mentionsBasename(text, file)) wanted.add(file);
  }
  // A small repository fits in the prompt whole: simpler than guessing.
  if (options.includeSmallRepo && tracked.length <= MAX_WITH_CONTENT) for (const file of tracked) wanted.add(file);

  const files: PromptFile[] = [];
  for (const file of tracked) {
    if (wanted.has(file) && files.filter((f) => f.content !== undefined).length < MAX_WITH_CONTENT) {
      files.push({ path: file, content: await workspace.readFile(file).catch(() => undefined) });
    } else {
      files.push({ path: file });
    }
  }
  return files;
}

function mentionsBasename(text: string, file: string): boolean {
  const base = path.posix.basename(file);
  // Short or generic names (index.ts, a.js) would match everywhere. The plain search first: a
  // pattern per file of a 20,000-file repository costs tens of milliseconds per prompt.
  return base.length >= 6 && base.includes('.') && text.includes(base) && new RegExp(`(^|[^\\w.-])${escapeRegExp(base)}($|[^\\w-])`).test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
