import { describe, expect, it } from 'vitest';
import { taskStateFixture } from '../../test/fakes/task-state';
import { describeState, printable } from './output';

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

describe('printable', () => {
  it("keeps text, newlines and tabs, and defuses the escape sequences a model's command could carry", () => {
    expect(printable('run\tnpm test\n\u001b]0;pwned\u0007\u001b[2J\u009b31m')).toBe('run\tnpm test\n�]0;pwned��[2J�31m');
  });
});
