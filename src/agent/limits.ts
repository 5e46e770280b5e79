/**
 * Cutting long text for the model's context: the head and tail of command output, the first lines
 * of a file, each with a note that says what was left out and how to see it.
 */

/** At most `maxChars` of `text`: its head and tail, with a note on what was cut in between. */
export function headAndTail(text: string, maxChars: number, advice: string): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  const head = text.slice(0, half);
  const tail = text.slice(text.length - half);
  const cutLines = text.slice(half, text.length - half).split('\n').length - 1;
  return `${head}\n[… ${text.length - 2 * half} characters (${cutLines} lines) cut; ${advice} …]\n${tail}`;
}

/** One line at most `max` characters long, with an ellipsis when cut. */
export function clipLine(line: string, max: number): string {
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
