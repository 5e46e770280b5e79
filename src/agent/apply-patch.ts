/**
 * `apply_patch`: the `*** Begin Patch` format some models are trained to write (OpenAI's Codex CLI
 * defined it). A patch adds, deletes, updates and moves files; an update is a list of hunks of
 * context (" "), removed ("-") and added ("+") lines, optionally after an `@@` line naming where
 * the hunk is (a function or class line). The whole patch applies or nothing does: every hunk is
 * located first, then the files are written.
 *
 * ```
 * *** Begin Patch
 * *** Update File: src/app.ts
 * @@ export function main
 *    const a = 1;
 * -  const b = 2;
 * +  const b = 3;
 * *** Add File: src/new.ts
 * +export {};
 * *** Delete File: src/old.ts
 * *** End Patch
 * ```
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentToolArgs } from '../domain/agent-tools';
import { replaceFile, resolveInside } from '../workspace/paths';
import { refused, type ToolContext, type ToolObservation } from './types';

interface Hunk {
  /** The `@@` line's text: a line to find before the hunk's context. */
  anchor: string;
  old: string[];
  new: string[];
  /** Each line's mark in order: context lines keep the file's own text when matched tolerantly. */
  marks: (' ' | '-' | '+')[];
  /** `*** End of File`: the hunk must match at the end. */
  atEnd: boolean;
}

export type PatchOperation =
  | { kind: 'add'; path: string; lines: string[] }
  | { kind: 'delete'; path: string }
  | { kind: 'update'; path: string; moveTo?: string; hunks: Hunk[] };

/** Thrown for a patch that does not parse or apply; the message is for the model. */
export class PatchError extends Error {}

/** Parses a patch; throws `PatchError` saying which line is wrong. */
export function parsePatch(text: string): PatchOperation[] {
  const lines = text.replace(/\r\n/g, '\n').trim().split('\n');
  if (lines[0]?.trim() !== '*** Begin Patch') throw new PatchError('The patch must start with the line "*** Begin Patch".');
  if (lines.at(-1)?.trim() !== '*** End Patch') throw new PatchError('The patch must end with the line "*** End Patch".');
  const ops: PatchOperation[] = [];
  let i = 1;
  const header = (prefix: string) => (lines[i]?.startsWith(prefix) ? lines[i]!.slice(prefix.length).trim() : undefined);
  while (i < lines.length - 1) {
    const add = header('*** Add File: ');
    const del = header('*** Delete File: ');
    const update = header('*** Update File: ');
    i++;
    if (add !== undefined) {
      const body: string[] = [];
      while (i < lines.length - 1 && !lines[i]!.startsWith('*** ')) {
        const line = lines[i++]!;
        if (!line.startsWith('+')) throw new PatchError(`Line ${i} of the patch: every line of an added file starts with "+" (got ${JSON.stringify(line.slice(0, 40))}).`);
        body.push(line.slice(1));
      }
      ops.push({ kind: 'add', path: add, lines: body });
    } else if (del !== undefined) {
      ops.push({ kind: 'delete', path: del });
    } else if (update !== undefined) {
      const op: Extract<PatchOperation, { kind: 'update' }> = { kind: 'update', path: update, hunks: [] };
      const move = header('*** Move to: ');
      if (move !== undefined) {
        op.moveTo = move;
        i++;
      }
      let hunk: Hunk | undefined;
      while (i < lines.length - 1 && (!lines[i]!.startsWith('*** ') || lines[i]!.trim() === '*** End of File')) {
        const line = lines[i++]!;
        if (line.trim() === '*** End of File') {
          if (hunk) hunk.atEnd = true;
          continue;
        }
        if (line.startsWith('@@')) {
          hunk = { anchor: line.slice(2).trim(), old: [], new: [], marks: [], atEnd: false };
          op.hunks.push(hunk);
          continue;
        }
        if (!hunk) {
          hunk = { anchor: '', old: [], new: [], marks: [], atEnd: false };
          op.hunks.push(hunk);
        }
        const mark = line[0] ?? ' ';
        const rest = line.slice(1);
        if (mark === ' ' || line === '') {
          hunk.old.push(rest);
          hunk.new.push(rest);
          hunk.marks.push(' ');
        } else if (mark === '-') {
          hunk.old.push(rest);
          hunk.marks.push('-');
        } else if (mark === '+') {
          hunk.new.push(rest);
          hunk.marks.push('+');
        } else throw new PatchError(`Line ${i} of the patch: a hunk line starts with " ", "-" or "+" (got ${JSON.stringify(line.slice(0, 40))}).`);
      }
      if (op.hunks.length === 0 && op.moveTo === undefined) throw new PatchError(`"*** Update File: ${update}" has no hunks.`);
      ops.push(op);
    } else {
      throw new PatchError(`Line ${i} of the patch: expected "*** Add File:", "*** Update File:" or "*** Delete File:" (got ${JSON.stringify(lines[i - 1]!.slice(0, 60))}).`);
    }
  }
  if (ops.length === 0) throw new PatchError('The patch changes no file.');
  return ops;
}

export async function applyPatch(args: AgentToolArgs<'apply_patch'>, ctx: ToolContext): Promise<ToolObservation> {
  let ops: PatchOperation[];
  try {
    ops = parsePatch(args.patch);
  } catch (err) {
    if (err instanceof PatchError) return refused(`The patch was not applied: ${err.message}`);
    throw err;
  }
  // Everything located first: a hunk that does not apply leaves every file as it was.
  const writes: { path: string; content: string | null }[] = [];
  for (const op of ops) {
    const target = await resolveInside(ctx.workspaceDir, op.path);
    const found = await stat(target).catch(() => null);
    if (op.kind === 'add') {
      if (found) return refused(`The patch was not applied: ${op.path} exists already; update it instead of adding it.`);
      writes.push({ path: op.path, content: op.lines.length ? `${op.lines.join('\n')}\n` : '' });
      continue;
    }
    if (!found?.isFile()) return refused(`The patch was not applied: ${op.path} ${found ? 'is not a file' : 'does not exist'}.`);
    if (op.kind === 'delete') {
      writes.push({ path: op.path, content: null });
      continue;
    }
    const updated = applyHunks(await readFile(target, 'utf8'), op);
    if (typeof updated !== 'string') return refused(`The patch was not applied: ${updated.error}`);
    if (op.moveTo !== undefined) {
      await resolveInside(ctx.workspaceDir, op.moveTo);
      writes.push({ path: op.path, content: null }, { path: op.moveTo, content: updated });
    } else {
      writes.push({ path: op.path, content: updated });
    }
  }
  for (const write of writes) {
    const target = await resolveInside(ctx.workspaceDir, write.path);
    if (write.content === null) {
      await rm(target);
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await replaceFile(await resolveInside(ctx.workspaceDir, write.path), write.content);
    }
  }
  const changed = [...new Set(writes.map((w) => w.path))];
  return { ok: true, text: `Patch applied: ${ops.map(describeOp).join('; ')}.`, changed };
}

function describeOp(op: PatchOperation): string {
  if (op.kind === 'update') return `updated ${op.path}${op.moveTo ? ` (moved to ${op.moveTo})` : ''}, ${op.hunks.length} hunk${op.hunks.length === 1 ? '' : 's'}`;
  return `${op.kind === 'add' ? 'added' : 'deleted'} ${op.path}`;
}

/** The file with every hunk applied in order, or which hunk did not match. */
function applyHunks(content: string, op: Extract<PatchOperation, { kind: 'update' }>): string | { error: string } {
  const trailingNewline = content.endsWith('\n');
  const lines = content.split('\n');
  if (trailingNewline) lines.pop();
  let cursor = 0;
  for (const [n, hunk] of op.hunks.entries()) {
    const name = `hunk ${n + 1} of ${op.path}`;
    if (hunk.anchor !== '') {
      const at = findSequence(lines, [hunk.anchor], cursor, false);
      if (at === -1) return { error: `${name}: the @@ line ${JSON.stringify(hunk.anchor)} was not found in the file.` };
      cursor = at + 1;
    }
    let at: number;
    if (hunk.old.length === 0) at = hunk.atEnd || hunk.anchor === '' ? lines.length : cursor;
    else if (hunk.atEnd) at = findSequence(lines, hunk.old, Math.max(cursor, lines.length - hunk.old.length), true);
    else at = findSequence(lines, hunk.old, cursor, true);
    if (at === -1) {
      return { error: `${name}: its context and "-" lines were not found${cursor > 0 ? ` after line ${cursor}` : ''}; they begin with ${JSON.stringify(hunk.old.slice(0, 2).join('\n'))}. View the file and copy the lines exactly.` };
    }
    const replacement = replacementLines(hunk, lines.slice(at, at + hunk.old.length));
    lines.splice(at, hunk.old.length, ...replacement);
    cursor = at + replacement.length;
  }
  return lines.join('\n') + (trailingNewline || lines.length > 0 ? '\n' : '');
}

/** The hunk's new lines, its context lines as the file has them (the match may have ignored whitespace). */
function replacementLines(hunk: Hunk, matched: string[]): string[] {
  const out: string[] = [];
  let oldIndex = 0;
  let newIndex = 0;
  for (const mark of hunk.marks) {
    if (mark === ' ') {
      out.push(matched[oldIndex++]!);
      newIndex++;
    } else if (mark === '-') {
      oldIndex++;
    } else {
      out.push(hunk.new[newIndex++]!);
    }
  }
  return out;
}

/**
 * Where `wanted` starts in `lines` at or after `from`: compared exactly, then ignoring trailing
 * whitespace, then ignoring indentation as well (models often get the indentation of context wrong).
 */
function findSequence(lines: string[], wanted: string[], from: number, whole: boolean): number {
  const exact = (a: string, b: string) => a === b;
  const trailing = (a: string, b: string) => a.trimEnd() === b.trimEnd();
  const trimmed = (a: string, b: string) => a.trim() === b.trim();
  const partial = (a: string, b: string) => a.includes(b.trim());
  for (const same of whole ? [exact, trailing, trimmed] : [trimmed, partial]) {
    for (let i = from; i + wanted.length <= lines.length; i++) {
      if (wanted.every((w, j) => same(lines[i + j]!, w))) return i;
    }
  }
  return -1;
}
