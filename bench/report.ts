/** The benchmark's figures: one table on stdout, the same figures as JSON in a file. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Target {
  /** How the target reads next to the figure, e.g. "≤ 1.2". */
  text: string;
  met(value: number): boolean;
}

export interface Figure {
  label: string;
  value: number;
  unit: string;
  target?: Target;
}

/** One measurement: its figures, what they are made of, or why it could not run. */
export interface Section {
  name: string;
  figures: Figure[];
  notes: string[];
  error?: string;
}

export function figure(label: string, value: number, unit: string, target?: Target): Figure {
  return { label, value, unit, target };
}

export const below = (limit: number, unit = ''): Target => ({ text: `< ${limit}${unit}`, met: (v) => v < limit });
export const atMost = (limit: number, unit = ''): Target => ({ text: `≤ ${limit}${unit}`, met: (v) => v <= limit });
export const atLeast = (limit: number, unit = ''): Target => ({ text: `≥ ${limit}${unit}`, met: (v) => v >= limit });

const DIGITS: Record<string, number> = { ms: 1, s: 2, x: 2, MiB: 2, 'tasks/s': 1 };

function formatValue(f: Figure): string {
  if (!Number.isFinite(f.value)) return String(f.value);
  const digits = DIGITS[f.unit] ?? (Number.isInteger(f.value) ? 0 : 2);
  return `${f.value.toFixed(digits)} ${f.unit}`.trimEnd();
}

function verdict(f: Figure): string {
  if (!f.target) return '';
  return f.target.met(f.value) ? 'pass' : 'MISS';
}

/** Prints every section as rows of figure, value, target and pass/MISS, then its notes. */
export function printReport(sections: Section[], print: (line: string) => void = console.log): void {
  const tables = sections.map((section) => ({ section, rows: section.figures.map((f) => [f.label, formatValue(f), f.target?.text ?? '', verdict(f)] as const) }));
  const widths = ([0, 1, 2] as const).map((i) => Math.max(0, ...tables.flatMap((t) => t.rows.map((r) => r[i].length))));
  for (const { section, rows } of tables) {
    print(`\n${section.name}`);
    if (section.error) print(`  could not run: ${section.error}`);
    for (const [label, value, target, result] of rows) {
      print(`  ${label.padEnd(widths[0]!)}  ${value.padStart(widths[1]!)}  ${target.padEnd(widths[2]!)}  ${result}`.trimEnd());
    }
    for (const note of section.notes) print(`  · ${note}`);
  }
}

/** Writes the sections, with targets resolved to pass/miss, and `meta` as JSON. */
export async function writeReport(file: string, meta: Record<string, unknown>, sections: Section[]): Promise<void> {
  const json = {
    ...meta,
    sections: sections.map((s) => ({
      ...s,
      figures: s.figures.map((f) => ({ label: f.label, value: f.value, unit: f.unit, target: f.target?.text, pass: f.target?.met(f.value) })),
    })),
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
}
