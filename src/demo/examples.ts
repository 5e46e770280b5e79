/**
 * The examples `ado demo --example <name>` runs: a sample repository made fresh for each run, the
 * task given to ADO, and how code is written. Each example's recorded model answers are replayed
 * by its own demo pool of the embedded stack (`DEMO_POOLS` in src/dev/stack.ts).
 */
import type { CoderMode } from '../domain/task';
import { DEMO_POOLS, DEMO_REPOSITORY, type DemoExampleName } from '../dev/stack';
import { createLedgerRepository, LEDGER_PROMPT } from './ledger-repository';
import { createSampleRepository } from './sample-repository';

export interface DemoExample {
  /** One line for `ado demo --help`. */
  summary: string;
  prompt: string;
  /** @default the task's default (one list of edits per iteration) */
  coder?: CoderMode;
  /** Makes the example's repository under `parent`; returns its path. */
  createRepository(parent: string): Promise<string>;
}

/** The task of the default example. */
export const DEMO_PROMPT =
  'Add input validation to the signup form: reject a missing or malformed email and passwords shorter than 8 characters, with tests.';

export const DEMO_EXAMPLES: Record<DemoExampleName, DemoExample> = {
  signup: {
    summary: 'a small signup service; the coder answers with lists of edits, the first attempt fails a test (the default)',
    prompt: DEMO_PROMPT,
    createRepository: (parent) => createSampleRepository(DEMO_REPOSITORY, parent),
  },
  ledger: {
    summary: 'a generated monorepo of 593 files in 8 packages; the agent coder searches, views, edits, runs a test and finishes',
    prompt: LEDGER_PROMPT,
    coder: 'agent',
    createRepository: createLedgerRepository,
  },
};

export const DEMO_EXAMPLE_NAMES = Object.keys(DEMO_POOLS) as DemoExampleName[];
