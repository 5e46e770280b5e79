/** Reading the files the test activities append one line to per step (FakeScript's sideEffectsFile, startsFile). */
import { existsSync, readFileSync } from 'node:fs';

/** The lines of `file`; none while it does not exist yet. */
export function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

/** How many lines of `file` are exactly `line`. */
export function count(file: string, line: string): number {
  return lines(file).filter((l) => l === line).length;
}
