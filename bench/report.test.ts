import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { atLeast, atMost, figure, printReport, writeReport, type Section } from './report';
import { median, quantile } from './stats';

describe('bench statistics', () => {
  it('interpolates quantiles between neighbours, whatever the input order', () => {
    expect(median([3, 1, 2, 4])).toBe(2.5);
    expect(quantile([10, 0], 0.95)).toBeCloseTo(9.5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('bench report', () => {
  const sections: Section[] = [
    { name: 'throughput', figures: [figure('task / bare', 0.79, 'x', atLeast(0.8)), figure('bare', 6.1, 'tasks/s')], notes: ['why'] },
    { name: 'memory', figures: [figure('per parked task', 1.35, 'MiB', atMost(2, ' MiB'))], notes: [] },
    { name: 'recovery', figures: [], notes: [], error: 'worker did not start' },
  ];

  it('prints each figure with its target and pass or MISS, and why a section could not run', () => {
    const lines: string[] = [];
    printReport(sections, (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toMatch(/task \/ bare\s+0\.79 x\s+≥ 0\.8\s+MISS/);
    expect(text).toMatch(/per parked task\s+1\.35 MiB\s+≤ 2 MiB\s+pass/);
    expect(text).toContain('could not run: worker did not start');
    expect(text).toContain('· why');
  });

  it('writes the same figures as JSON with the verdicts resolved', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-report-'));
    try {
      const file = path.join(dir, 'nested', 'latest.json');
      await writeReport(file, { startedAt: 'now' }, sections);
      const json = JSON.parse(await readFile(file, 'utf8'));
      expect(json.startedAt).toBe('now');
      expect(json.sections[0].figures[0]).toEqual({ label: 'task / bare', value: 0.79, unit: 'x', target: '≥ 0.8', pass: false });
      expect(json.sections[1].figures[0].pass).toBe(true);
      expect(json.sections[2].error).toBe('worker did not start');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
