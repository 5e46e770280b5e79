/**
 * `view`: a file with line numbers (or a range of it), or a folder listed two levels deep. Paths
 * are checked like edits (inside the workspace, not in `.git`, never through a symbolic link):
 * a committed link could otherwise show the model a host file.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentToolArgs } from '../domain/agent-tools';
import { resolveInside } from '../workspace/paths';
import { clipLine } from './limits';
import { refused, type ToolContext, type ToolObservation } from './types';

/** Lines shown at once; the note says how to ask for the next ones. */
export const VIEW_MAX_LINES = 400;
const VIEW_MAX_CHARS = 40_000;
const MAX_LINE_CHARS = 500;
const LISTING_MAX_ENTRIES = 300;
/** Folders a listing names but does not open: dependencies and build output. */
const UNOPENED = new Set(['.git', 'node_modules', 'dist', 'build', '__pycache__', '.venv', 'vendor', 'target']);

export async function view(args: AgentToolArgs<'view'>, ctx: ToolContext): Promise<ToolObservation> {
  const root = args.path.replace(/\/+$/, '') === '.' || args.path === '/' ? ctx.workspaceDir : await resolveInside(ctx.workspaceDir, args.path);
  const found = await stat(root).catch(() => null);
  if (found === null) return refused(`${args.path} does not exist. Use find_files or view "." to see what does.`);
  if (found.isDirectory()) {
    if (args.view_range) return refused(`${args.path} is a folder; view_range applies to files.`);
    return { ok: true, text: await listFolder(root, args.path) };
  }
  const content = await readFile(root, 'utf8');
  if (content.includes('\0')) return refused(`${args.path} is a binary file (${found.size} bytes); it cannot be shown as text.`);
  return showLines(args.path, content, args.view_range);
}

function showLines(name: string, content: string, range: [number, number] | undefined): ToolObservation {
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const total = lines.length;
  if (total === 0) return { ok: true, text: `${name} is empty.` };
  const first = range?.[0] ?? 1;
  const wantedLast = range === undefined || range[1] === -1 ? total : range[1];
  if (first > total) return refused(`${name} has ${total} lines; view_range starts at ${first}.`);
  if (wantedLast < first) return refused(`view_range [${first}, ${wantedLast}] is empty: the last line must not come before the first (or be -1 for the end).`);
  const last = Math.min(wantedLast, total);
  const shown: string[] = [];
  let chars = 0;
  let end = first - 1;
  for (let n = first; n <= last && n - first < VIEW_MAX_LINES; n++) {
    const line = `${String(n).padStart(6)}\t${clipLine(lines[n - 1]!, MAX_LINE_CHARS)}`;
    if (chars + line.length > VIEW_MAX_CHARS && shown.length > 0) break;
    shown.push(line);
    chars += line.length + 1;
    end = n;
  }
  if (end < last) {
    shown.push(`[… shown lines ${first}-${end} of ${total}; view with view_range [${end + 1}, ${Math.min(total, end + VIEW_MAX_LINES)}] for more, or search for what you need]`);
  }
  return { ok: true, text: shown.join('\n') };
}

async function listFolder(dir: string, shownAs: string): Promise<string> {
  const out: string[] = [];
  let more = 0;
  const walk = async (folder: string, prefix: string, depth: number): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      if (out.length >= LISTING_MAX_ENTRIES) {
        more++;
        continue;
      }
      const rel = prefix + entry.name;
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        if (depth < 2 && !UNOPENED.has(entry.name)) await walk(path.join(folder, entry.name), `${rel}/`, depth + 1);
      } else {
        out.push(entry.isSymbolicLink() ? `${rel} (symbolic link)` : rel);
      }
    }
  };
  await walk(dir, '', 1);
  const title = `Files and folders in ${shownAs}, two levels deep:`;
  const note = more > 0 ? [`[… ${more} more entries; view a subfolder, or use find_files]`] : [];
  return [title, ...out, ...note].join('\n');
}
