import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { describeFailure, FailureType, nonRetryable } from './errors';

describe('describeFailure: what happened first, then why', () => {
  it("shows ADO's message with its cause after it, not the innermost message alone", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/t.yaml'"), { code: 'ENOENT' });
    const ado = nonRetryable(FailureType.InvalidConfig, 'Cannot read the LLM transcript /x/t.yaml: set ADO_LLM_TRANSCRIPT to a file that exists', { cause: enoent });
    expect(describeFailure(ado)).toBe(
      "Cannot read the LLM transcript /x/t.yaml: set ADO_LLM_TRANSCRIPT to a file that exists; cause: ENOENT: no such file or directory, open '/x/t.yaml'",
    );
  });

  it("skips Temporal's wrappers and repeated messages, as the workflow sees an activity's failure", () => {
    const cause = ApplicationFailure.create({ type: 'Error', message: 'YAMLParseError at line 2' });
    const failure = ApplicationFailure.create({ type: FailureType.InvalidConfig, message: '.ado.yml: not valid YAML: YAMLParseError at line 2', cause, nonRetryable: true });
    const wrapped = new ActivityFailure('Activity task failed', 'prepareWorkspace', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', failure);
    expect(describeFailure(wrapped)).toBe('.ado.yml: not valid YAML: YAMLParseError at line 2');
    const timeout = new ActivityFailure('Activity task failed', 'runQualityGates', '9', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'w', new TimeoutFailure('activity Heartbeat timeout', undefined, TimeoutType.HEARTBEAT));
    expect(describeFailure(timeout)).toBe('activity Heartbeat timeout');
  });

  it('cuts a huge cause (a whole zod issue list) and keeps a wrapper that has nothing below it', () => {
    const long = new Error(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ path: ['field', i], message: 'Required' }))));
    const text = describeFailure(new Error('Invalid transcript t.yaml: plan: Required', { cause: long }));
    expect(text.startsWith('Invalid transcript t.yaml: plan: Required; cause: [{')).toBe(true);
    expect(text.length).toBeLessThan(800);
    expect(describeFailure(new ActivityFailure('Activity task failed', 'x', '1', RetryState.TIMEOUT, 'w', undefined))).toBe('Activity task failed');
  });
});
