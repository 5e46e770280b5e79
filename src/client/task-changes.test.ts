import { describe, expect, it } from 'vitest';
import { FIXTURE_AT, taskStateFixture } from '../../test/fakes/task-state';
import type { ApprovalRequest, TaskExecutionState } from '../domain/task';
import type { AgentStep } from '../domain/agent-tools';
import { changesBetween, newSessionSteps } from './task-changes';

const at = FIXTURE_AT;
/** `seconds` after `at`. */
const later = (seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();
const request: ApprovalRequest = { id: 'r1', checkpoint: 'plan', context: 'the plan', requestedAt: at, expiresAt: at };
const base = taskStateFixture({ hitlEnabled: true });

describe('changesBetween', () => {
  it('reports nothing when nothing changed', () => {
    expect(changesBetween(base, structuredClone(base))).toEqual([]);
  });

  it('reports every phase, decision and the pending request when nothing was seen before', () => {
    const after: TaskExecutionState = {
      ...base,
      phaseHistory: [...base.phaseHistory, { phase: 'review', at: later(2), attempt: 1 }],
      approvals: [{ request, decision: { approved: true }, decidedAt: later(1) }],
      pendingApproval: { ...request, id: 'r2', checkpoint: 'pr' },
    };
    expect(changesBetween(undefined, after).map((e) => e.event)).toEqual(['phase', 'decision', 'phase', 'approval', 'state']);
  });

  it('reports a new approval request, then the state', () => {
    const after = { ...base, plan: 'the plan', pendingApproval: request };
    expect(changesBetween(base, after).map((e) => e.event)).toEqual(['approval', 'state']);
  });

  it('reports the decision and every phase passed between two polls in the order they happened, then the state', () => {
    const before = { ...base, pendingApproval: request };
    const after: TaskExecutionState = {
      ...base,
      phase: 'coding',
      phaseHistory: [...base.phaseHistory, { phase: 'decomposing', at: later(1), attempt: 0 }, { phase: 'coding', at: later(2), attempt: 1 }],
      approvals: [{ request, decision: { approved: true, reviewer: 'alice', channel: 'api' }, decidedAt: later(1) }],
    };
    const events = changesBetween(before, after);
    expect(events.map((e) => e.event)).toEqual(['decision', 'phase', 'phase', 'state']);
    expect(events.slice(1, 3).map((e) => (e.data as { phase: string }).phase)).toEqual(['decomposing', 'coding']);
  });

  it('puts a decision after the phases that came before it', () => {
    const after: TaskExecutionState = {
      ...base,
      phase: 'review',
      phaseHistory: [...base.phaseHistory, { phase: 'review', at: later(1), attempt: 1 }],
      approvals: [{ request: { ...request, checkpoint: 'pr' }, decision: { approved: true }, decidedAt: later(2) }],
    };
    expect(changesBetween(base, after).map((e) => e.event)).toEqual(['phase', 'decision', 'state']);
  });

  it('reports a change without a new phase or decision as a new state only', () => {
    expect(changesBetween(base, { ...base, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } }).map((e) => e.event)).toEqual(['state']);
  });
});

describe('newSessionSteps', () => {
  const step = (index: number): AgentStep => ({ index, tool: 'view', argument: 'a.js', outcome: 'ok', durationMs: 5, actionKey: `a${index}`, observationKey: `o${index}` });
  const withSession = (workflowId: string, iteration: number, indexes: number[]): TaskExecutionState => ({ ...base, session: { workflowId, iteration, steps: indexes.map(step) } });

  it('reports the tool calls after the last one seen, none when nothing is new or there is no session', () => {
    expect(newSessionSteps(undefined, withSession('s1', 1, [1, 2])).map((s) => s.index)).toEqual([1, 2]);
    expect(newSessionSteps(withSession('s1', 1, [1, 2]), withSession('s1', 1, [1, 2, 3, 4])).map((s) => s.index)).toEqual([3, 4]);
    expect(newSessionSteps(withSession('s1', 1, [1, 2]), withSession('s1', 1, [1, 2]))).toEqual([]);
    expect(newSessionSteps(undefined, base)).toEqual([]);
  });

  it("reports every step of the next iteration's session, and those the task's window no longer holds are not repeated", () => {
    expect(newSessionSteps(withSession('s1', 1, [7, 8]), withSession('s2', 2, [1])).map((s) => s.index)).toEqual([1]);
    // The task keeps the latest steps only: earlier ones dropping out of the window are not new.
    expect(newSessionSteps(withSession('s1', 1, [1, 2, 3]), withSession('s1', 1, [3, 4])).map((s) => s.index)).toEqual([4]);
  });
});
