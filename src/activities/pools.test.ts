import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../telemetry/logger';
import { createCodeActivities } from './code.activities';
import { createActivities, type ActivityDeps } from './index';
import { ACTIVITY_POOLS, activitiesOf, type ActivityPoolMap } from './pools';
import { createReviewActivities } from './review.activities';
import { createTaskActivities } from './task.activities';

// The factories only capture their dependencies: none is used until an activity runs.
const deps = { logger: silentLogger(), scratchDir: os.tmpdir() } as ActivityDeps;

describe('activity registration', () => {
  it("registers every activity a factory builds on its factory's pool, and nothing else", () => {
    expect(activitiesOf('task').sort()).toEqual(Object.keys(createTaskActivities(deps)).sort());
    expect(activitiesOf('code').sort()).toEqual(Object.keys(createCodeActivities(deps)).sort());
    expect(activitiesOf('review').sort()).toEqual(Object.keys(createReviewActivities(deps)).sort());
    expect(Object.keys(ACTIVITY_POOLS).sort()).toEqual(Object.keys(createActivities(deps)).sort());
  });

  it('does not compile with an activity left out or in another pool (checked by `npm run typecheck`)', () => {
    const { notifyTaskOutcome: _left, ...withoutOne } = ACTIVITY_POOLS;
    // @ts-expect-error notifyTaskOutcome would be registered on no worker
    const incomplete: ActivityPoolMap = withoutOne;
    // @ts-expect-error runQualityGates belongs to the review pool
    const misplaced: ActivityPoolMap = { ...ACTIVITY_POOLS, runQualityGates: 'code' };
    expect(Object.keys(incomplete)).not.toContain('notifyTaskOutcome');
    expect(misplaced.runQualityGates).toBe('code');
  });
});
