/**
 * The console's phases (assets/phases.js, its one copy, used by the task list's filter and the
 * timeline) are the domain's: a phase added to src/domain/task.ts without the console fails here.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TASK_PHASES, TERMINAL_PHASES } from '../domain/task';

describe('the console phases', () => {
  it('are the domain phases, in the same order, with the same terminal ones', async () => {
    const consolePhases = (await import(pathToFileURL(path.join(__dirname, 'assets', 'phases.js')).href)) as {
      TASK_PHASES: string[];
      TERMINAL_PHASES: string[];
    };
    expect(consolePhases.TASK_PHASES).toEqual([...TASK_PHASES]);
    expect(consolePhases.TERMINAL_PHASES).toEqual([...TERMINAL_PHASES]);
  });
});
