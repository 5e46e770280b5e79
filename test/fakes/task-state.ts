/** A task's `taskState` as tests need it: a task just started, with `overrides`. */
import type { TaskExecutionState } from '../../src/domain/task';

/** The time every fixture state was started and last changed at. */
export const FIXTURE_AT = '2025-01-01T10:00:00.000Z';

export function taskStateFixture(overrides: Partial<TaskExecutionState> = {}): TaskExecutionState {
  return {
    taskId: 't1',
    repository: '/repo',
    prompt: 'do it',
    hitlEnabled: false,
    phase: 'planning',
    phaseHistory: [{ phase: 'planning', at: FIXTURE_AT, attempt: 0 }],
    attempts: 0,
    maxIterations: 10,
    errors: [],
    approvals: [],
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    startedAt: FIXTURE_AT,
    updatedAt: FIXTURE_AT,
    ...overrides,
  };
}
