import { describe, expect, it } from 'vitest';
import { describeRunning } from './progress';

describe('describeRunning', () => {
  const now = Date.parse('2026-12-05T12:00:30Z');
  it('says what the activity reported doing and for how long', () => {
    const running = { activity: 'runQualityGates', attempt: 1, startedAt: '2026-12-05T12:00:00Z', progress: { doing: 'quality gates: test running (1 of 2 done)', since: '2026-12-05T12:00:18Z' } };
    expect(describeRunning(running, now)).toBe('quality gates: test running (1 of 2 done) for 12 s');
  });

  it('names an activity that reported nothing in words, with its attempt, or says it waits for a worker', () => {
    expect(describeRunning({ activity: 'generateCode', attempt: 2, startedAt: '2026-12-05T12:00:25Z' }, now)).toBe('waiting for the model (code) for 5 s (attempt 2)');
    expect(describeRunning({ activity: 'executeCode', attempt: 1 }, now)).toBe('running the code (waiting for a worker)');
    expect(describeRunning({ activity: 'executeCode', attempt: 3 }, now)).toBe('running the code (waiting to be retried)');
  });
});
