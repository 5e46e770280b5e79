/**
 * Every activity of every pool, built from their dependencies. Only the worker wires these
 * (src/worker/wiring.ts); tests build pools with their own dependencies.
 */
import { createCodeActivities, type CodeActivityDeps } from './code.activities';
import type { AdoActivities } from './interfaces';
import { createReviewActivities, type ReviewActivityDeps } from './review.activities';
import { createTaskActivities, type TaskActivityDeps } from './task.activities';

export type ActivityDeps = TaskActivityDeps & CodeActivityDeps & ReviewActivityDeps;

export function createActivities(deps: ActivityDeps): AdoActivities {
  return { ...createTaskActivities(deps), ...createCodeActivities(deps), ...createReviewActivities(deps) };
}
