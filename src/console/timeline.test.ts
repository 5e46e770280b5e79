/**
 * The task page's timeline (assets/sections.js, browser code run here on a minimal fake DOM)
 * shows every domain phase.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TASK_PHASES, TERMINAL_PHASES } from '../domain/task';

/** Just what assets/dom.js and the views use. */
class FakeNode {}
class FakeElement extends FakeNode {
  readonly attributes = new Map<string, string>();
  children: Array<FakeElement | string> = [];
  className = '';
  hidden = false;
  constructor(readonly tag: string) {
    super();
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  addEventListener(): void {}
  append(...children: Array<FakeElement | string>): void {
    this.children.push(...children);
  }
  replaceChildren(): void {
    this.children = [];
  }
  get textContent(): string {
    return this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('');
  }
  /** Every element below this one with `data-testid` `id`. */
  findAll(id: string): FakeElement[] {
    const below = this.children.filter((c): c is FakeElement => c instanceof FakeElement);
    return [...below.filter((c) => c.attributes.get('data-testid') === id), ...below.flatMap((c) => c.findAll(id))];
  }
}

interface Sections {
  timelineCard: (state: unknown) => FakeElement[];
}
const asset = async <T>(name: string): Promise<T> => (await import(pathToFileURL(path.join(__dirname, 'assets', name)).href)) as T;

function state(phase: string, phaseHistory: string[]) {
  return {
    taskId: 'task-1',
    prompt: 'Add a greeting',
    repository: 'acme/app',
    startedAt: '2025-01-01T00:00:00.000Z',
    attempts: 0,
    maxIterations: 10,
    usage: {},
    phase,
    phaseHistory: phaseHistory.map((p) => ({ phase: p, at: '2025-01-01T00:00:00.000Z', attempt: 0 })),
    errors: [],
    approvals: [],
  };
}

beforeEach(() => {
  vi.stubGlobal('Node', FakeNode);
  vi.stubGlobal('document', {
    createElement: (tag: string) => new FakeElement(tag),
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the timeline', () => {
  const steps = async (phase: string) => {
    const { timelineCard } = await asset<Sections>('sections.js');
    const card = timelineCard(state(phase, [phase]));
    const list = card.flatMap((node) => [node, ...node.findAll('timeline')]).find((node) => node.attributes.get('data-testid') === 'timeline');
    return list!.children.map((li) => (li as FakeElement).textContent);
  };
  const ongoing = TASK_PHASES.filter((p) => !TERMINAL_PHASES.includes(p));

  it('shows every phase a task passes through, then `completed`, while it runs', async () => {
    expect(await steps('coding')).toEqual([...ongoing, 'completed']);
  });

  it('ends with how the task ended', async () => {
    for (const phase of TERMINAL_PHASES) expect(await steps(phase)).toEqual([...ongoing, phase]);
  });
});
