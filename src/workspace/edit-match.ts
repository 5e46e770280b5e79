/**
 * Finds the one place a search/replace edit applies to. An exact match comes first; when there is
 * none, whole lines are compared ignoring trailing whitespace and CR, the differences models most
 * often introduce and the ones that never change what code means (Markdown's two-space line break
 * aside, which the model then rewrites as it wrote it).
 */

export type ReplaceOutcome =
  | { kind: 'replaced'; content: string; tolerant: boolean }
  | { kind: 'ambiguous'; lines: number[] }
  | { kind: 'none'; closest: string };

/** Replaces the single occurrence of `search` in `content`, or says why it cannot. */
export function replaceOnce(content: string, search: string, replace: string): ReplaceOutcome {
  const exact = occurrences(content, search);
  if (exact.length === 1) {
    const at = exact[0]!;
    return { kind: 'replaced', content: content.slice(0, at) + replace + content.slice(at + search.length), tolerant: false };
  }
  if (exact.length > 1) return { kind: 'ambiguous', lines: exact.map((at) => lineOf(content, at)) };

  const fileLines = content.split('\n');
  const searchLines = withoutFinalNewline(search.replace(/\r\n/g, '\n')).split('\n');
  if (searchLines.every((line) => line.trim() === '')) return { kind: 'none', closest: closestLines(fileLines, searchLines) };
  const starts = lineMatches(fileLines, searchLines);
  if (starts.length > 1) return { kind: 'ambiguous', lines: starts.map((i) => i + 1) };
  const start = starts[0];
  if (start === undefined) return { kind: 'none', closest: closestLines(fileLines, searchLines) };

  const end = start + searchLines.length;
  const crlf = fileLines[end - 1]?.endsWith('\r') ?? false;
  const replacement = search.endsWith('\n') ? withoutFinalNewline(replace.replace(/\r\n/g, '\n')) : replace.replace(/\r\n/g, '\n');
  const replacementLines = replacement === '' && search.endsWith('\n') ? [] : replacement.split('\n').map((l) => (crlf ? `${l}\r` : l));
  const lines = [...fileLines.slice(0, start), ...replacementLines, ...fileLines.slice(end)];
  return { kind: 'replaced', content: lines.join('\n'), tolerant: true };
}

function occurrences(content: string, search: string): number[] {
  const found: number[] = [];
  if (search === '') return found;
  for (let at = content.indexOf(search); at !== -1; at = content.indexOf(search, at + 1)) found.push(at);
  return found;
}

function lineMatches(fileLines: string[], searchLines: string[]): number[] {
  const wanted = searchLines.map((l) => l.trimEnd());
  const starts: number[] = [];
  for (let i = 0; i + wanted.length <= fileLines.length; i++) {
    if (wanted.every((line, j) => fileLines[i + j]!.trimEnd() === line)) starts.push(i);
  }
  return starts;
}

function lineOf(content: string, index: number): number {
  let line = 1;
  for (let i = content.indexOf('\n'); i !== -1 && i < index; i = content.indexOf('\n', i + 1)) line++;
  return line;
}

function withoutFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

const CONTEXT_LINES = 2;
const MAX_SHOWN_LINES = 12;
const MAX_LINE_CHARS = 160;

/**
 * The file's lines that look most like the search text, numbered, so the model can correct its
 * search on the next iteration without seeing the whole file.
 */
function closestLines(fileLines: string[], searchLines: string[]): string {
  if (fileLines.length === 1 && fileLines[0] === '') return '(the file is empty)';
  const probe = (searchLines.find((l) => l.trim() !== '') ?? '').trim();
  let best = 0;
  let bestScore = -1;
  fileLines.forEach((line, i) => {
    const score = similarity(probe, line.trim());
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  const from = Math.max(0, best - CONTEXT_LINES);
  const to = Math.min(fileLines.length, best + searchLines.length + CONTEXT_LINES, from + MAX_SHOWN_LINES);
  return fileLines
    .slice(from, to)
    .map((line, i) => `${String(from + i + 1).padStart(5)}| ${truncate(line.replace(/\r$/, ''))}`)
    .join('\n');
}

function truncate(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

/** Dice coefficient of character bigrams: 1 for equal strings, 0 for nothing in common. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < a.length - 1; i++) {
    const bigram = a.slice(i, i + 2);
    counts.set(bigram, (counts.get(bigram) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < b.length - 1; i++) {
    const bigram = b.slice(i, i + 2);
    const n = counts.get(bigram) ?? 0;
    if (n > 0) {
      counts.set(bigram, n - 1);
      shared++;
    }
  }
  return (2 * shared) / (a.length + b.length - 2);
}
