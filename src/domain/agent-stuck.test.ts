import { describe, expect, it } from 'vitest';
import { detectStuck } from './agent-stuck';
import type { AgentStep } from './agent-tools';

let index = 0;
const step = (action: string, observation: string, outcome: AgentStep['outcome'] = 'ok'): AgentStep => ({
  index: ++index,
  tool: action.split(' ')[0]!,
  argument: action.split(' ')[1] ?? '',
  outcome,
  durationMs: 1,
  actionKey: action,
  observationKey: observation,
});

describe('stuck rules', () => {
  it('the same action with the same observation four times', () => {
    const steps = [step('view a', 'A'), step('view a', 'A'), step('view a', 'A')];
    expect(detectStuck(steps)).toBeUndefined();
    expect(detectStuck([...steps, step('view a', 'A')])).toEqual({ rule: 'same-action-same-observation', detail: 'view "a" ran 4 times in a row with the same result' });
    expect(detectStuck([...steps, step('view a', 'B')])).toBeUndefined();
  });

  it('the same failing action three times, whatever the observations', () => {
    const steps = [step('run test', 'e1', 'error'), step('run test', 'e2', 'error')];
    expect(detectStuck(steps)).toBeUndefined();
    expect(detectStuck([...steps, step('run test', 'e3', 'error')])).toEqual({ rule: 'same-failing-action', detail: 'run "test" failed 3 times in a row' });
    expect(detectStuck([...steps, step('run test', 'ok', 'ok')])).toBeUndefined();
  });

  it('an A/B alternation over six steps', () => {
    const ab = [step('view a', 'A'), step('view b', 'B'), step('view a', 'A'), step('view b', 'B'), step('view a', 'A')];
    expect(detectStuck(ab)).toBeUndefined();
    expect(detectStuck([...ab, step('view b', 'B')])).toMatchObject({ rule: 'alternation', detail: 'alternated between view "a" and view "b" for 6 steps' });
    expect(detectStuck([...ab, step('view c', 'C')])).toBeUndefined();
  });
});
