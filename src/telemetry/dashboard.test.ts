/**
 * The deploy files for Prometheus and Grafana against the metrics ADO serves: the dashboard may
 * only query metric names and labels that exist (see metric-catalog.ts), and must show each of
 * the things an operator asks about.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { exposedNames, METRICS } from './metric-catalog';

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Array<{ expr: string }>;
}

const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'ado-dashboard.json'), 'utf8')) as { uid: string; panels: Panel[] };
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Labels the SDK adds (core metrics snake_case, its TypeScript meters camelCase) or PromQL makes. */
const SDK_LABELS = ['namespace', 'task_queue', 'workflow_type', 'activity_type', 'failure_reason', 'taskQueue', 'workflowType', 'activityType', 'le'];

describe('the Grafana dashboard', () => {
  it('queries only metrics that ADO serves', () => {
    const served = new Set(METRICS.flatMap((m) => exposedNames(m)));
    const used = new Set(exprs.flatMap((e) => e.match(/\bado_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !served.has(name))).toEqual([]);
  });

  it('groups and filters only by labels those metrics carry', () => {
    const known = new Set([...SDK_LABELS, ...METRICS.flatMap((m) => m.labels)]);
    const labels = exprs.flatMap((e) => [
      ...[...e.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())),
      ...[...e.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*=~?/g)].map((l) => l[1]!)),
    ]);
    expect(labels.filter((label) => !known.has(label))).toEqual([]);
  });

  it('shows task outcomes, phases, queue depth, activity latency, gates, iterations, tokens and cost, approval waits', () => {
    const shown = (metric: string) => exprs.some((e) => e.includes(metric));
    for (const metric of [
      'ado_temporal_workflow_completed_total',
      'ado_temporal_workflow_failed_total',
      'ado_tasks_by_phase',
      'ado_temporal_workflow_task_queue_depth',
      'ado_temporal_activity_execution_latency_bucket',
      'ado_gate_runs_total',
      'ado_iterations_to_green_bucket',
      'ado_llm_tokens_total',
      'ado_task_cost_usd_sum',
      'ado_approval_wait_seconds_bucket',
    ]) {
      expect(shown(metric), metric).toBe(true);
    }
  });

  it('lays out panels with unique ids, a data source and a query each, none overlapping', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of queryPanels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    const cells = new Map<string, string>();
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.get(`${x},${y}`), `${title} overlaps`).toBeUndefined();
          cells.set(`${x},${y}`, title);
        }
      }
    }
  });
});

describe('the Prometheus configuration', () => {
  it('scrapes every worker pool and the API on the metrics port, labelling workers by pool', () => {
    const config = YAML.parse(readFileSync(path.join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        dns_sd_configs?: Array<{ names: string[]; port: number }>;
        static_configs?: Array<{ targets: string[] }>;
        relabel_configs?: Array<{ target_label: string }>;
      }>;
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);
    expect(job('ado-workers')?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['worker-task', 'worker-code', 'worker-review'], port: 9464 })]);
    expect(job('ado-workers')?.relabel_configs).toContainEqual(expect.objectContaining({ target_label: 'pool' }));
    expect(job('ado-api')?.static_configs).toEqual([{ targets: ['api:9464'] }]);
  });
});
