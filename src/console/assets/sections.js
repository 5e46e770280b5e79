// The parts of a task page that only show data: each returns the nodes of one card.
import { clock, h, phaseBadge } from './dom.js';
import { TASK_PHASES, TERMINAL_PHASES } from './phases.js';

/** The phases a task passes through before it ends, in order. */
const ONGOING_PHASES = TASK_PHASES.filter((phase) => !TERMINAL_PHASES.includes(phase));

/** The phase steps (reached, current, to come) and every phase change with its time. */
export function timelineCard(state) {
  const reached = new Set(state.phaseHistory.map((p) => p.phase));
  // The last step is how the task ended, or `completed` while it runs.
  const steps = [...ONGOING_PHASES, TERMINAL_PHASES.includes(state.phase) ? state.phase : 'completed'];
  return [
    h('h2', {}, 'Phases'),
    h(
      'ol',
      { class: 'steps', 'data-testid': 'timeline' },
      steps.map((phase) => h('li', { class: `${phase === state.phase ? 'current' : reached.has(phase) ? 'done' : 'todo'} step-${phase}` }, phase)),
    ),
    h(
      'ul',
      { class: 'history' },
      state.phaseHistory.map((change) =>
        h('li', {}, h('time', { datetime: change.at }, clock(change.at)), ' ', phaseBadge(change.phase), change.attempt > 0 && ['coding', 'testing'].includes(change.phase) ? ` iteration ${change.attempt}` : ''),
      ),
    ),
  ];
}

export function planCard(state) {
  return [
    h('h2', {}, 'Plan'),
    state.plan ? h('pre', { class: 'plan' }, state.plan) : h('p', { class: 'muted' }, 'No plan yet.'),
    state.subtasks?.length
      ? [h('h3', {}, 'Subtasks'), h('ol', { class: 'subtasks' }, state.subtasks.map((s) => h('li', {}, h('strong', {}, s.title), s.description ? h('div', { class: 'muted small' }, s.description) : null)))]
      : null,
  ];
}

/** The failures fed back to the model, by iteration; the latest iteration open. */
/** What runs now (the task's pending activities, with what each says it does) and for how long. */
export function nowCard(running, now = Date.now()) {
  return [
    h('h2', {}, 'Now'),
    h(
      'ul',
      { 'data-testid': 'now' },
      running.map((r) => {
        const since = r.progress?.since ?? r.startedAt;
        const how = !r.startedAt ? ' (waiting for a worker)' : since ? ` for ${Math.max(0, Math.round((now - Date.parse(since)) / 1000))} s` : '';
        return h('li', {}, h('strong', {}, r.progress?.doing ?? r.activity), how, r.attempt > 1 ? ` (attempt ${r.attempt})` : '');
      }),
    ),
  ];
}

export function errorsCard(state) {
  const byIteration = new Map();
  for (const error of state.errors) byIteration.set(error.iteration, [...(byIteration.get(error.iteration) ?? []), error]);
  const latest = Math.max(0, ...byIteration.keys());
  return [
    h('h2', {}, 'Errors by iteration'),
    byIteration.size === 0
      ? h('p', { class: 'muted' }, 'None so far.')
      : [...byIteration].map(([iteration, list]) =>
          h(
            'details',
            { open: iteration === latest },
            h('summary', {}, `Iteration ${iteration}: `, list.map((e) => e.tool).join(', ')),
            list.map((e) => h('div', { class: 'task-error' }, h('div', { class: 'small' }, h('strong', {}, e.tool), e.exitCode !== undefined ? ` · exit ${e.exitCode}` : ''), h('pre', {}, e.message))),
          ),
        ),
  ];
}

export function pullRequestCard(state) {
  const pr = state.pullRequest;
  if (!pr) return [h('h2', {}, 'Pull request'), h('p', { class: 'muted' }, 'Not opened yet.')];
  const link = /^https?:\/\//.test(pr.url) ? h('a', { href: pr.url, target: '_blank', rel: 'noopener' }, pr.url) : pr.url;
  return [
    h('h2', {}, 'Pull request'),
    h('p', {}, h('strong', {}, pr.title), ' ', pr.merged ? h('span', { class: 'badge phase-completed' }, 'merged') : h('span', { class: 'badge phase-review' }, 'open')),
    h('p', { class: 'small' }, link),
    h('p', { class: 'small mono' }, `${pr.headBranch} → ${pr.baseBranch}`),
    pr.stats
      ? h('p', { class: 'small' }, `${pr.stats.commits} commit(s), ${pr.stats.filesChanged} file(s), `, h('span', { class: 'add' }, `+${pr.stats.insertions}`), ' ', h('span', { class: 'del' }, `-${pr.stats.deletions}`))
      : null,
  ];
}

/** Who decided what, where, when and why. */
export function decisionsCard(state) {
  return [
    h('h2', {}, 'Decisions'),
    state.approvals.length === 0
      ? h('p', { class: 'muted' }, 'None yet.')
      : h(
          'ul',
          { class: 'decisions', 'data-testid': 'decisions' },
          state.approvals.map(({ request, decision, decidedAt }) =>
            h(
              'li',
              {},
              h('span', { class: decision.approved ? 'add' : 'del' }, decision.approved ? '✔ approved' : '✘ rejected'),
              ` ${request.checkpoint} · ${decision.reviewer ?? 'someone'} via ${decision.channel ?? 'signal'} · ${clock(decidedAt)}`,
              decision.comment ? h('div', { class: 'muted small' }, `“${decision.comment}”`) : null,
            ),
          ),
        ),
  ];
}

/** The checkpoints the store holds (the task can be resumed from each). */
export function checkpointsCard(checkpoints) {
  return [
    h('h2', {}, 'Checkpoints'),
    checkpoints.length === 0
      ? h('p', { class: 'muted' }, 'None saved yet.')
      : h('ul', { class: 'history' }, checkpoints.map((c) => h('li', {}, h('time', {}, clock(c.timestamp)), ' ', phaseBadge(c.phase), ' ', h('span', { class: 'mono small muted', title: c.id }, c.id.slice(0, 12))))),
  ];
}

/** A diff from GET /api/tasks/:id/diff, coloured by line. */
export function diffCard(result) {
  return [
    h('h2', {}, 'Diff ', h('span', { class: 'muted small mono' }, `${result.base.slice(0, 10)}..${result.head.slice(0, 10)}${result.pullRequest ? ' (pull request)' : ' (work in progress)'}`)),
    result.truncated ? h('p', { class: 'banner warn' }, 'The diff is large; only its beginning is shown.') : null,
    result.diff ? h('pre', { class: 'diff' }, result.diff.split('\n').map(diffLine)) : h('p', { class: 'muted' }, 'No changes.'),
  ];
}

function diffLine(line) {
  const kind = line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff --git') ? 'file' : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
  return h('span', { class: `line ${kind}` }, line);
}
