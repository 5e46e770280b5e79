/**
 * Stuck rules for a coding session, in the spirit of OpenHands' stuck detector: the model is
 * going round in circles when it repeats the same action and sees the same observation, retries
 * the same failing action, or alternates between two actions. Pure: the session workflow calls it
 * after every step.
 */
import type { AgentStep, AgentStuck } from './agent-tools';

/** How many repetitions each rule needs. */
export const STUCK_RULES = {
  sameActionSameObservation: 4,
  sameFailingAction: 3,
  /** Steps in an A/B/A/B… run. */
  alternation: 6,
} as const;

/** Why the last steps say the session is stuck, or undefined. */
export function detectStuck(steps: readonly AgentStep[]): AgentStuck | undefined {
  const last = steps.at(-1);
  if (!last) return undefined;

  const repeated = tail(steps, STUCK_RULES.sameActionSameObservation);
  if (repeated && repeated.every((s) => s.actionKey === last.actionKey && s.observationKey === last.observationKey)) {
    return { rule: 'same-action-same-observation', detail: `${describe(last)} ran ${repeated.length} times in a row with the same result` };
  }

  const failing = tail(steps, STUCK_RULES.sameFailingAction);
  if (failing && failing.every((s) => s.outcome !== 'ok' && s.actionKey === last.actionKey)) {
    return { rule: 'same-failing-action', detail: `${describe(last)} failed ${failing.length} times in a row` };
  }

  const run = tail(steps, STUCK_RULES.alternation);
  if (run) {
    const [a, b] = [run[0]!, run[1]!];
    const same = (x: AgentStep, y: AgentStep) => x.actionKey === y.actionKey && x.observationKey === y.observationKey;
    if (!same(a, b) && run.every((s, i) => same(s, i % 2 === 0 ? a : b))) {
      return { rule: 'alternation', detail: `alternated between ${describe(a)} and ${describe(b)} for ${run.length} steps` };
    }
  }
  return undefined;
}

function tail(steps: readonly AgentStep[], n: number): readonly AgentStep[] | undefined {
  return steps.length >= n ? steps.slice(-n) : undefined;
}

function describe(step: AgentStep): string {
  return step.argument ? `${step.tool} ${JSON.stringify(step.argument)}` : step.tool;
}
