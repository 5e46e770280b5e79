/** `resetPoint` on hand-written histories; workflow-recovery.test.ts resets real runs. */
import type { temporal } from '@temporalio/proto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { resetPoint } from './workflow-recovery';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A history from `[eventId, attributes]` pairs, ids as the server numbers them. */
function history(...events: Array<[number, Omit<HistoryEvent, 'eventId'>]>): HistoryEvent[] {
  return events.map(([eventId, attributes]) => ({ eventId: Long.fromNumber(eventId), ...attributes }));
}

const started = { workflowExecutionStartedEventAttributes: {} };
const taskCompleted = { workflowTaskCompletedEventAttributes: {} };
const scheduledBy = (workflowTaskCompletedEventId: number) => ({ activityTaskScheduledEventAttributes: { workflowTaskCompletedEventId: Long.fromNumber(workflowTaskCompletedEventId) } });

describe('resetPoint', () => {
  it('is the workflow task that scheduled the activity whose failure ended the run', () => {
    const events = history(
      [1, started],
      [4, taskCompleted],
      [5, scheduledBy(4)],
      [7, { activityTaskCompletedEventAttributes: { scheduledEventId: Long.fromNumber(5) } }],
      [10, taskCompleted],
      [11, scheduledBy(10)],
      [13, { activityTaskFailedEventAttributes: { scheduledEventId: Long.fromNumber(11) } }],
      [16, taskCompleted],
      [17, { workflowExecutionFailedEventAttributes: {} }],
    );
    expect(resetPoint(events)).toBe(10);
  });

  it('takes the last failed or timed-out activity when there are several', () => {
    const events = history(
      [1, started],
      [4, taskCompleted],
      [5, scheduledBy(4)],
      [7, { activityTaskFailedEventAttributes: { scheduledEventId: Long.fromNumber(5) } }],
      [10, taskCompleted],
      [11, scheduledBy(10)],
      [13, { activityTaskTimedOutEventAttributes: { scheduledEventId: Long.fromNumber(11) } }],
    );
    expect(resetPoint(events)).toBe(10);
  });

  it('is the last completed workflow task before a cancel request or termination when no activity failed', () => {
    const cancelled = history([1, started], [4, taskCompleted], [8, taskCompleted], [9, { workflowExecutionCancelRequestedEventAttributes: {} }], [12, taskCompleted]);
    expect(resetPoint(cancelled)).toBe(8);
    const terminated = history([1, started], [4, taskCompleted], [5, { workflowExecutionTerminatedEventAttributes: {} }]);
    expect(resetPoint(terminated)).toBe(4);
    expect(resetPoint(history([1, started], [4, taskCompleted], [9, taskCompleted]))).toBe(9);
  });

  it('is undefined when no workflow task completed', () => {
    expect(resetPoint(history([1, started], [2, { workflowExecutionTerminatedEventAttributes: {} }]))).toBeUndefined();
    expect(resetPoint([])).toBeUndefined();
  });
});
