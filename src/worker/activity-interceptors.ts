/**
 * The activity interceptors of every ADO worker: lines of the SDK's activity logger (such as
 * "Activity failed") carry the task id, and the results of gate and LLM activities become
 * metrics. Reading results at the one edge every activity passes keeps the activities free of
 * telemetry, and counts the same for any implementation of them.
 */
import type { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import type { ActivityName, AdoActivities } from '../activities/interfaces';
import type { TokenUsage } from '../domain/task';
import type { LlmRole } from '../llm/types';
import { taskIdOf } from '../telemetry/task-id';

type ResultOf<K extends ActivityName> = Awaited<ReturnType<AdoActivities[K]>>;
type Observers = { [K in ActivityName]?: (meter: MetricMeter, result: ResultOf<K>) => void };

/** Tokens of completed LLM activities (a failed attempt's tokens are not in any result). */
const tokens =
  (role: LlmRole) =>
  (meter: MetricMeter, result: { usage: TokenUsage }): void =>
    meter.createCounter('ado_llm_tokens', 'tokens', 'LLM tokens (prompt and completion) by model role').add(result.usage.totalTokens, { role });

const OBSERVERS: Observers = {
  planTask: tokens('planner'),
  decomposeTask: tokens('planner'),
  generateCode: tokens('coder'),
  runQualityGates(meter, result) {
    const runs = meter.createCounter('ado_gate_runs', 'runs', 'Quality gate runs by gate and result');
    for (const gate of result.gates) runs.add(1, { gate: gate.gate, result: gate.passed ? 'pass' : 'fail' });
  },
};

/** Factory for `WorkerOptions.interceptors.activity`. */
export function adoActivityInterceptors(ctx: Context): ActivityInterceptors {
  let taskId: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        taskId = taskIdOf(input.args[0]);
        const result = await next(input);
        observe(ctx, result);
        return result;
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next(taskId === undefined ? attributes : { ...attributes, taskId });
      },
    },
  };
}

function observe(ctx: Context, result: unknown): void {
  const observer = OBSERVERS[ctx.info.activityType as ActivityName] as ((meter: MetricMeter, result: unknown) => void) | undefined;
  try {
    observer?.(ctx.metricMeter, result);
  } catch (err) {
    // The activity did its work: a result of an unexpected shape must not fail (and repeat) it.
    ctx.log.warn('Could not record the metrics of an activity result', { error: (err as Error).message });
  }
}
