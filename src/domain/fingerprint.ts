/**
 * Error fingerprints for stuck detection. Two failures count as "the same" when they differ only
 * in what changes from run to run: paths, line and column numbers, timestamps, ids, durations.
 * Pure and deterministic: the workflow calls it.
 */

const NORMALISERS: ReadonlyArray<[RegExp, string]> = [
  // ANSI colour codes (control characters by definition)
  // eslint-disable-next-line no-control-regex
  [/\u001b\[[0-9;]*[A-Za-z]/g, ''],
  // ISO timestamps and clock times
  [/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b/g, '<time>'],
  // UUIDs and long hex ids (commit shas, object ids)
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{7,}\b/gi, '<id>'],
  // Paths: anything with a slash or backslash, absolute or relative, with optional :line:col
  [/(?:[A-Za-z]:)?(?:[\w.@~-]*[/\\])+[\w.@-]*/g, '<path>'],
  // Remaining numbers: line/column numbers, counts, durations
  [/\d+(\.\d+)?/g, '<n>'],
  [/\s+/g, ' '],
];

/** The error text with everything volatile replaced by placeholders. */
export function normaliseErrorText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of NORMALISERS) out = out.replace(pattern, replacement);
  return out.trim();
}

/** A short stable hash (53-bit, hex) of the normalised error text. */
export function errorFingerprint(text: string): string {
  return hash53(normaliseErrorText(text));
}

/** The fingerprint of a whole iteration: its errors' fingerprints, order-independent. */
export function iterationFingerprint(errors: ReadonlyArray<{ tool: string; fingerprint: string }>): string {
  if (errors.length === 0) return '';
  const parts = errors.map((e) => `${e.tool}:${e.fingerprint}`).sort();
  return hash53(parts.join('|'));
}

/** True when the last `threshold` iteration fingerprints are equal and non-empty. */
export function isStuck(iterationFingerprints: readonly string[], threshold: number): boolean {
  if (iterationFingerprints.length < threshold) return false;
  const tail = iterationFingerprints.slice(-threshold);
  const first = tail[0];
  return first !== undefined && first !== '' && tail.every((f) => f === first);
}

/** A short stable hash (53-bit, hex) of `text`: cyrb53, small, well-distributed, no dependencies (the workflow bundle cannot use node:crypto). */
export function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
