/**
 * The text-editor commands models are trained on: `str_replace`, `create` and `insert`. Paths go
 * through the workspace's component-wise checks (inside the workspace, not in `.git`, never
 * through a symbolic link); a replacement needs exactly one match (or one whitespace-tolerant
 * match) and says why when there is none or several.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentToolArgs } from '../domain/agent-tools';
import { replaceOnce } from '../workspace/edit-match';
import { replaceFile, resolveInside } from '../workspace/paths';
import { refused, type ToolContext, type ToolObservation } from './types';

export async function strReplace(args: AgentToolArgs<'str_replace'>, ctx: ToolContext): Promise<ToolObservation> {
  const file = await readText(ctx, args.path);
  if (typeof file !== 'string') return file;
  const outcome = replaceOnce(file, args.old_str, args.new_str);
  switch (outcome.kind) {
    case 'ambiguous':
      return refused(
        `No replacement: old_str occurs ${outcome.lines.length} times in ${args.path} (at lines ${outcome.lines.join(', ')}). ` +
          'Include more surrounding lines in old_str so that it matches exactly once.',
      );
    case 'none':
      return refused(`No replacement: old_str was not found in ${args.path}. The closest lines are:\n${outcome.closest}\nCopy the text exactly as view shows it (without the line numbers).`);
    case 'replaced':
      await replaceFile(await resolveInside(ctx.workspaceDir, args.path), outcome.content);
      return {
        ok: true,
        text: `Replaced in ${args.path}${outcome.tolerant ? ' (matched ignoring trailing whitespace)' : ''}:\n${snippet(outcome.content, args.new_str)}`,
        changed: [args.path],
      };
  }
}

export async function create(args: AgentToolArgs<'create'>, ctx: ToolContext): Promise<ToolObservation> {
  const target = await resolveInside(ctx.workspaceDir, args.path);
  const existing = await stat(target).catch(() => null);
  if (existing?.isDirectory()) return refused(`${args.path} is a folder; give a file path.`);
  await mkdir(path.dirname(target), { recursive: true });
  // A second resolve: mkdir created folders that did not exist when the path was checked.
  await replaceFile(await resolveInside(ctx.workspaceDir, args.path), args.file_text);
  const lines = args.file_text.split('\n').length - (args.file_text.endsWith('\n') ? 1 : 0);
  return { ok: true, text: `${existing ? 'Overwrote' : 'Created'} ${args.path} (${lines} lines).`, changed: [args.path] };
}

export async function insert(args: AgentToolArgs<'insert'>, ctx: ToolContext): Promise<ToolObservation> {
  const file = await readText(ctx, args.path);
  if (typeof file !== 'string') return file;
  const lines = file.split('\n');
  const trailingNewline = file.endsWith('\n');
  if (trailingNewline) lines.pop();
  if (args.insert_line > lines.length) return refused(`${args.path} has ${lines.length} lines; insert_line must be between 0 and ${lines.length}.`);
  const added = args.new_str.replace(/\n$/, '').split('\n');
  lines.splice(args.insert_line, 0, ...added);
  const content = lines.join('\n') + (trailingNewline || file === '' ? '\n' : '');
  await replaceFile(await resolveInside(ctx.workspaceDir, args.path), content);
  return { ok: true, text: `Inserted ${added.length} lines after line ${args.insert_line} of ${args.path}:\n${snippet(content, args.new_str)}`, changed: [args.path] };
}

/** The file's text, or the observation saying why it cannot be edited. */
async function readText(ctx: ToolContext, relPath: string): Promise<string | ToolObservation> {
  const target = await resolveInside(ctx.workspaceDir, relPath);
  const found = await stat(target).catch(() => null);
  if (found === null) return refused(`${relPath} does not exist; use create to make a new file.`);
  if (!found.isFile()) return refused(`${relPath} is not a file.`);
  const text = await readFile(target, 'utf8');
  if (text.includes('\0')) return refused(`${relPath} is a binary file; it cannot be edited as text.`);
  return text;
}

const SNIPPET_CONTEXT = 3;

/** The changed place with a few lines around it, numbered, so the model sees the result. */
function snippet(content: string, inserted: string): string {
  const at = inserted === '' ? -1 : content.indexOf(inserted);
  if (at === -1) return '(the text is gone from the file)';
  const lines = content.split('\n');
  const first = content.slice(0, at).split('\n').length;
  const last = first + inserted.split('\n').length - 1;
  const from = Math.max(1, first - SNIPPET_CONTEXT);
  const to = Math.min(lines.length, last + SNIPPET_CONTEXT);
  return lines
    .slice(from - 1, to)
    .map((line, i) => `${String(from + i).padStart(6)}\t${line}`)
    .join('\n');
}
