/**
 * What a run's history says about its activities and messages, with the server's own event times
 * (epoch milliseconds with sub-millisecond precision, comparable with `wallMs()` on this machine).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import type { google } from '@temporalio/proto';
import { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export const EventType = temporal.api.enums.v1.EventType;

/** One activity of a run: its scheduled event, when its last attempt started and completed. */
interface ActivityRecord {
  type: string;
  taskQueue: string;
  scheduledEventId: number;
  scheduledAt: number;
  startedAt?: number;
  completedAt?: number;
  completedEventId?: number;
  attempt?: number;
  /** Why the attempt before the last one failed (a heartbeat timeout after a crash). */
  lastFailure?: string;
}

/** Now, on the clock the server stamps events with, in epoch milliseconds. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** A protobuf timestamp in epoch milliseconds, keeping the sub-millisecond part. */
export function timestampMs(ts: google.protobuf.ITimestamp | null | undefined): number {
  return tsToMs(ts) + ((ts?.nanos ?? 0) % 1e6) / 1e6;
}

export function eventMs(event: HistoryEvent): number {
  return timestampMs(event.eventTime);
}

export function eventId(event: HistoryEvent): number {
  return Number(event.eventId);
}

export function eventsOfType(events: HistoryEvent[], type: temporal.api.enums.v1.EventType): HistoryEvent[] {
  return events.filter((e) => e.eventType === type);
}

/** The queue name `activitiesOf` gives a local activity: it runs in the workflow's worker. */
export const LOCAL_ACTIVITY = '(local)';

/** The activity type a local activity's marker records (the SDK's marker data, JSON). */
function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return '?';
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string };
  return parsed.activity_type ?? '?';
}

/** The activities of a run in the order they were scheduled; local ones on the queue `LOCAL_ACTIVITY`. */
export function activitiesOf(events: HistoryEvent[]): ActivityRecord[] {
  const byScheduledId = new Map<number, ActivityRecord>();
  for (const event of events) {
    const local = localActivityType(event);
    if (local) byScheduledId.set(eventId(event), { type: local, taskQueue: LOCAL_ACTIVITY, scheduledEventId: eventId(event), scheduledAt: eventMs(event) });
    const scheduled = event.activityTaskScheduledEventAttributes;
    const started = event.activityTaskStartedEventAttributes;
    const completed = event.activityTaskCompletedEventAttributes;
    if (scheduled) {
      byScheduledId.set(eventId(event), {
        type: scheduled.activityType?.name ?? '?',
        taskQueue: scheduled.taskQueue?.name ?? '?',
        scheduledEventId: eventId(event),
        scheduledAt: eventMs(event),
      });
    } else if (started) {
      const record = byScheduledId.get(Number(started.scheduledEventId));
      if (record) Object.assign(record, { startedAt: eventMs(event), attempt: started.attempt ?? 1, lastFailure: started.lastFailure?.message ?? undefined });
    } else if (completed) {
      const record = byScheduledId.get(Number(completed.scheduledEventId));
      if (record) Object.assign(record, { completedAt: eventMs(event), completedEventId: eventId(event) });
    }
  }
  return [...byScheduledId.values()];
}
