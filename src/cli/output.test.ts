import { describe, expect, it } from 'vitest';
import { taskStateFixture } from '../../test/fakes/task-state';
import { describeState } from './output';

describe('describeState', () => {
  it('says a failed task is still recording its outcome while its workflow runs', () => {
    const state = taskStateFixture({ phase: 'failed', failure: 'Quality gates failed after 3 iterations' });

    expect(describeState(state, 'RUNNING').split('\n')[0]).toBe('Task t1: failed (finishing: recording the outcome; the workflow is still running)');
    expect(describeState(state, 'FAILED').split('\n')[0]).toBe('Task t1: failed');
  });

  it('shows a phase that is not final as it is, whatever the status', () => {
    expect(describeState(taskStateFixture({ phase: 'coding' }), 'RUNNING').split('\n')[0]).toBe('Task t1: coding');
  });
});
