/**
 * Every metric ADO puts on `/metrics`, in one list: the Temporal SDK's own (the runtime prefixes
 * them `ado_temporal_`; the design names four, see docs/architecture.md) and ADO's (named in full: the prefix applies to the
 * SDK's metrics only). The Grafana dashboard may use only names listed here (a test checks), and
 * histogram buckets come from here. Pure data: the workflow type-checks its metric names against it.
 */

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricSpec {
  /** As created; the exporter adds `_total` to counters and `_bucket`/`_sum`/`_count` to histograms. */
  name: string;
  kind: MetricKind;
  /**
   * Labels of ADO's own. The SDK adds more: to its core metrics `namespace`, `task_queue`,
   * `workflow_type` / `activity_type`; to workflow and activity metrics (its TypeScript meters)
   * `namespace`, `taskQueue`, `workflowType` / `activityType`. The monitors' gauges have only theirs.
   */
  labels: readonly string[];
  /** Who emits it: the SDK runtime, the workflow, the activity interceptor, or a worker's monitor. */
  source: 'sdk' | 'workflow' | 'activity' | 'monitor';
  /** Histogram bucket bounds, when the SDK's default (milliseconds: 50 … 10000) does not fit. */
  buckets?: readonly number[];
}

/** The SDK runtime's prefix for its own metrics. */
export const TEMPORAL_METRIC_PREFIX = 'ado_temporal_';

const SECONDS_TO_HOURS = [5, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

export const METRICS = [
  // The SDK's (names without the prefix, as the runtime creates them). Activities run for minutes.
  { name: 'workflow_completed', kind: 'counter', labels: [], source: 'sdk' },
  { name: 'workflow_failed', kind: 'counter', labels: [], source: 'sdk' },
  { name: 'workflow_canceled', kind: 'counter', labels: [], source: 'sdk' },
  { name: 'workflow_endtoend_latency', kind: 'histogram', labels: [], source: 'sdk', buckets: SECONDS_TO_HOURS.map((s) => s * 1000) },
  { name: 'activity_execution_failed', kind: 'counter', labels: [], source: 'sdk' },
  {
    name: 'activity_execution_latency',
    kind: 'histogram',
    labels: [],
    source: 'sdk',
    buckets: [50, 100, 500, 1000, 2500, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000],
  },
  // Queue depth is not an SDK metric: a worker's monitor reads it from the server, under the name the design gives it.
  { name: 'ado_temporal_workflow_task_queue_depth', kind: 'gauge', labels: ['namespace', 'task_queue', 'type'], source: 'monitor' },
  { name: 'ado_tasks_by_phase', kind: 'gauge', labels: ['namespace', 'task_queue', 'phase'], source: 'monitor' },
  { name: 'ado_task_phase_transitions', kind: 'counter', labels: ['phase'], source: 'workflow' },
  { name: 'ado_iterations_to_green', kind: 'histogram', labels: [], source: 'workflow', buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20] },
  { name: 'ado_approval_signals_ignored', kind: 'counter', labels: [], source: 'workflow' },
  { name: 'ado_approval_wait_seconds', kind: 'histogram', labels: ['checkpoint', 'outcome'], source: 'workflow', buckets: SECONDS_TO_HOURS },
  {
    name: 'ado_task_tokens',
    kind: 'histogram',
    labels: ['outcome'],
    source: 'workflow',
    buckets: [1000, 5000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000],
  },
  { name: 'ado_task_cost_usd', kind: 'histogram', labels: ['outcome'], source: 'workflow', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50] },
  { name: 'ado_gate_runs', kind: 'counter', labels: ['gate', 'result'], source: 'activity' },
  { name: 'ado_llm_tokens', kind: 'counter', labels: ['role'], source: 'activity' },
] as const satisfies readonly MetricSpec[];

/** The name ADO code creates a metric with (the workflow checks its literals against this). */
export type AdoMetricName = Exclude<(typeof METRICS)[number], { source: 'sdk' }>['name'];

/** The series names a metric appears under in the Prometheus exposition. */
export function exposedNames(spec: MetricSpec): string[] {
  const base = spec.source === 'sdk' ? TEMPORAL_METRIC_PREFIX + spec.name : spec.name;
  if (spec.kind === 'counter') return [`${base}_total`];
  if (spec.kind === 'histogram') return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
  return [base];
}

/** Bucket overrides for the runtime's Prometheus exporter (keys match with or without the prefix). */
export function histogramBuckets(): Record<string, number[]> {
  return Object.fromEntries(METRICS.flatMap((m) => ('buckets' in m ? [[m.name, [...m.buckets]]] : [])));
}
