/**
 * The first useful lines of a failing tool's output, for the next code-generation round and for
 * humans: the errors, assertions and locations, without npm's banners and log hints, blank
 * lines, passing tests or runtime-internal stack frames.
 */

export const DEFAULT_SUMMARY_LINES = 40;
export const MAX_SUMMARY_CHARS = 2000;

/** Stack frames kept in a row: the first ones point at the user's code, the rest repeat. */
const MAX_FRAMES_IN_A_ROW = 3;
/** Lines kept after a useful one: assertion details, the code frame under an error. */
const CONTEXT_AFTER = 2;

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g;

/** npm's script banner: "> demo-app@1.0.0 test". */
const NPM_BANNER = /^> \S+@\S+ \S+/;

/** Lines that never help: npm's log hints and summaries, runners' pass counts, YAML fences. */
const NOISE: RegExp[] = [
  /^npm (ERR!|error)\s*$/,
  /^npm (ERR!|error) (A complete log|code |errno |path |command |workspace |location |Lifecycle script|Failed at|This is probably|Exit status|\s+\/\S+\/_logs\/)/,
  /^npm (ERR!|error) \S+@\S+ \S+: /,
  /^npm (notice|WARN|warn)\b/,
  // Stack frames inside the runtime or dependencies, with or without "at" (TAP prints them bare).
  /^\s*(at )?(async )?.*(\(node:[\w/]+:\d+:\d+\)|\/node_modules\/)/,
  /^\s*(at )?(async )?node:[\w/]+:\d+:\d+$/,
  /^(#|ℹ) (tests|suites|pass|cancelled|skipped|todo|duration_ms)\b/,
  /^TAP version \d+/,
  /^\s*(---|\.\.\.)\s*$/,
  /^\s*duration_ms:/,
  /^\s*ok \d+ /,
  /^# Subtest: /,
];

/** What makes a line worth reading: an error, a failed check, a location in a file. */
const USEFUL =
  /error|fail|assert|expected|✖|✗|×|not ok|panic|exception|cannot|not defined|\bTS\d{3,5}\b|[\w.-]+\.[A-Za-z]{1,4}[:(]\d+/i;

/** A line that names a file on its own (eslint's header above its findings). */
const FILE_HEADER = /^(\/|\.{1,2}\/|[A-Za-z]:\\)?[\w@.+-]+([/\\][\w@.+-]+)*\.[A-Za-z]{1,5}$/;

const STACK_FRAME = /^\s*at\s/;

/** Where a runner starts repeating its failures as a recap (node's spec reporter). */
const RECAP = /^✖ failing tests:$/;

/** Visible text lines: escape sequences gone, a carriage-return-overwritten line as it ended. */
function visibleLines(output: string): string[] {
  return output
    .replace(ANSI_ESCAPE, '')
    .split(/\r?\n/)
    .map((line) => (line.split('\r').pop() ?? '').trimEnd());
}

function withoutNoise(lines: string[]): string[] {
  const kept: string[] = [];
  let framesInARow = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (RECAP.test(line) && kept.some((earlier) => USEFUL.test(earlier))) break;
    if (NPM_BANNER.test(line)) {
      // The banner's second line echoes the script: "> node --test".
      if (lines[i + 1]?.startsWith('> ')) i++;
      continue;
    }
    if (line.trim() === '' || NOISE.some((pattern) => pattern.test(line))) continue;
    framesInARow = STACK_FRAME.test(line) ? framesInARow + 1 : 0;
    if (framesInARow > MAX_FRAMES_IN_A_ROW) continue;
    kept.push(line);
  }
  return kept;
}

/** Indexes of the useful lines plus their context, in order. */
function usefulIndexes(lines: string[]): number[] {
  const keep = new Set<number>();
  lines.forEach((line, i) => {
    if (!USEFUL.test(line)) return;
    if (i > 0 && FILE_HEADER.test((lines[i - 1] ?? '').trim())) keep.add(i - 1);
    for (let j = i; j <= Math.min(i + CONTEXT_AFTER, lines.length - 1); j++) keep.add(j);
  });
  return [...keep].sort((a, b) => a - b);
}

/** Takes lines in order while both caps hold, and says how many were left out. */
function capped(lines: string[], maxLines: number): string {
  const taken: string[] = [];
  let chars = 0;
  for (const line of lines) {
    if (taken.length >= maxLines || chars + line.length + 1 > MAX_SUMMARY_CHARS) break;
    taken.push(line);
    chars += line.length + 1;
  }
  const left = lines.length - taken.length;
  if (left > 0) taken.push(`… (${left} more line${left === 1 ? '' : 's'})`);
  return taken.join('\n');
}

/**
 * The first useful lines of `output`, at most `maxLines` lines and about 2000 characters. Lines
 * with errors, failures, assertions and file locations come first (with the lines just after
 * them); output that has none is summarised by its end, where tools put the reason they stopped.
 * Empty when the output says nothing.
 */
export function summarizeFailure(output: string, maxLines: number = DEFAULT_SUMMARY_LINES): string {
  const lines = withoutNoise(visibleLines(output));
  const fits = lines.length <= maxLines && lines.reduce((sum, line) => sum + line.length + 1, 0) <= MAX_SUMMARY_CHARS;
  if (fits) return lines.join('\n');
  const useful = usefulIndexes(lines);
  if (useful.length === 0) return capped(lines.slice(-maxLines), maxLines);
  return capped(
    useful.map((i) => lines[i] ?? ''),
    maxLines,
  );
}
