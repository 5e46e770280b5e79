/**
 * Applies the model's edits to a workspace. An edit that does not apply becomes a structured
 * error for the next iteration, never a crash; the other edits still apply, in order.
 */
import { lstat, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AdoError } from '../domain/errors';
import type { Edit } from '../llm/prompts';
import { replaceOnce } from './edit-match';
import { replaceFile, resolveInside } from './paths';

export interface EditError {
  tool: 'edit';
  message: string;
}

export interface ApplyEditsResult {
  /** Paths changed, each once, in the order first changed. */
  applied: string[];
  errors: EditError[];
}

/** Thrown inside one edit when it cannot apply; becomes an `EditError`. */
class EditRejected extends Error {}

/** Applies `edits` in order under `dir`; see the module comment for what happens on failure. */
export async function applyEdits(dir: string, edits: readonly Edit[]): Promise<ApplyEditsResult> {
  const applied = new Set<string>();
  const errors: EditError[] = [];
  for (const edit of edits) {
    try {
      await applyEdit(dir, edit);
      applied.add(edit.path);
    } catch (err) {
      errors.push({ tool: 'edit', message: `${edit.type} ${edit.path}: ${reason(err)}` });
    }
  }
  return { applied: [...applied], errors };
}

async function applyEdit(dir: string, edit: Edit): Promise<void> {
  // A delete may remove a symbolic link itself; nothing reads or writes through one.
  const target = await resolveInside(dir, edit.path, { linkAtEnd: edit.type === 'delete' });
  switch (edit.type) {
    case 'write':
      await mkdir(path.dirname(target), { recursive: true });
      await replaceFile(target, edit.content);
      return;
    case 'delete':
      await requireFileOrLink(target);
      await rm(target);
      return;
    case 'replace':
      await replaceInFile(target, edit);
      return;
  }
}

async function replaceInFile(target: string, edit: Extract<Edit, { type: 'replace' }>): Promise<void> {
  if (edit.search === '') throw new EditRejected('the search text is empty; use a write edit to create or overwrite a file');
  await requireFile(target, 'use a write edit to create it');
  const content = await readFile(target, 'utf8');
  if (content.includes('\0')) throw new EditRejected('binary file; use a write edit to replace it whole');
  const outcome = replaceOnce(content, edit.search, edit.replace);
  switch (outcome.kind) {
    case 'replaced':
      await replaceFile(target, outcome.content);
      return;
    case 'ambiguous':
      throw new EditRejected(
        `ambiguous: the search text occurs ${outcome.lines.length} times (lines ${outcome.lines.join(', ')}); ` +
          'include more surrounding lines so that it matches exactly once',
      );
    case 'none':
      throw new EditRejected(`the search text does not occur in the file; the closest lines are:\n${outcome.closest}`);
  }
}

async function requireFile(target: string, hint: string): Promise<void> {
  const found = await stat(target).catch(() => null);
  if (found === null) throw new EditRejected(`file not found; ${hint}`);
  if (!found.isFile()) throw new EditRejected('is a folder, not a file');
}

async function requireFileOrLink(target: string): Promise<void> {
  const found = await lstat(target).catch(() => null);
  if (found === null) throw new EditRejected('file not found; nothing to delete');
  if (found.isDirectory()) throw new EditRejected('is a folder, not a file');
}

function reason(err: unknown): string {
  if (err instanceof EditRejected || err instanceof AdoError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `cannot change the file (${code})` : String(err);
}
