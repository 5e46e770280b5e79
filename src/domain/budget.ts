/**
 * The task budget's arithmetic, shared by the task workflow (before each LLM call) and its coding
 * sessions (before every model turn). Deterministic: the workflow passes its own clock.
 */
import type { TaskBudget, TokenUsage } from './task';

/** Which limit of `budget` is reached with `usage` after `elapsedMs`, described for a human; undefined when none. */
export function reachedBudgetLimit(budget: TaskBudget | undefined, usage: TokenUsage, elapsedMs: number): string | undefined {
  if (!budget) return undefined;
  if (budget.maxTotalTokens !== undefined && usage.totalTokens >= budget.maxTotalTokens) {
    return `tokens ${usage.totalTokens} of ${budget.maxTotalTokens}`;
  }
  if (budget.maxCostUsd !== undefined && (usage.costUsd ?? 0) >= budget.maxCostUsd) {
    return `cost $${(usage.costUsd ?? 0).toFixed(4)} of $${budget.maxCostUsd}`;
  }
  if (budget.maxDurationMs !== undefined && elapsedMs >= budget.maxDurationMs) {
    return `time ${formatDuration(elapsedMs)} of ${formatDuration(budget.maxDurationMs)}`;
  }
  return undefined;
}

/** `budget` without the limit that `reached` (from `reachedBudgetLimit`) names: an approval without new limits. */
export function liftReached(budget: TaskBudget | undefined, reached: string): TaskBudget {
  const lifted = { ...budget };
  if (reached.startsWith('tokens')) delete lifted.maxTotalTokens;
  else if (reached.startsWith('cost')) delete lifted.maxCostUsd;
  else delete lifted.maxDurationMs;
  return lifted;
}

/** A duration for a human: whole hours or minutes when it is one, else seconds. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour(s)`;
  if (ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}
