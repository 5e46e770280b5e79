// One task: phase timeline, pending decision, plan, errors per iteration, pull request and diff,
// decisions and checkpoints; live from the task's event stream.
import { call, followEvents, taskPath } from './api.js';
import { fill, h, phaseBadge, when } from './dom.js';
import { TERMINAL_PHASES } from './phases.js';
import { checkpointsCard, decisionsCard, diffCard, errorsCard, nowCard, planCard, pullRequestCard, timelineCard } from './sections.js';

const RETRY_MS = 2000;

export function taskView(taskId, shell) {
  const header = h('div', { class: 'card' }, h('h1', {}, taskId), h('p', { class: 'muted' }, 'Loading…'));
  const live = h('p', { class: 'muted small live', 'data-testid': 'live' });
  const failure = h('div', { hidden: true });
  const notice = h('div', { hidden: true });
  const approval = h('div', { hidden: true });
  const now = h('section', { class: 'card', hidden: true });
  const timeline = h('section', { class: 'card' });
  const plan = h('section', { class: 'card' });
  const errors = h('section', { class: 'card' });
  const pullRequest = h('section', { class: 'card' });
  const decisions = h('section', { class: 'card' });
  const checkpoints = h('section', { class: 'card' });
  const diff = h('section', { class: 'card' });
  const element = h(
    'section',
    { class: 'task' },
    h('a', { href: '#/', class: 'back' }, '← All tasks'),
    header,
    live,
    failure,
    notice,
    approval,
    now,
    timeline,
    h('div', { class: 'columns' }, h('div', {}, plan, errors), h('div', {}, pullRequest, decisions, checkpoints)),
    diff,
  );
  const stop = new AbortController();
  let running = [];
  // The seconds go on between events.
  const ticker = setInterval(() => running.length > 0 && renderNow(running), 1000);
  stop.signal.addEventListener('abort', () => clearInterval(ticker));
  let pendingId = null;
  let diffHead = null;

  function render(state) {
    renderHeader(state);
    renderFailure(state);
    renderApproval(state.pendingApproval);
    fill(timeline, timelineCard(state));
    fill(plan, planCard(state));
    fill(errors, errorsCard(state));
    fill(pullRequest, pullRequestCard(state));
    fill(decisions, decisionsCard(state));
    const head = state.pullRequest?.headSha ?? state.headSha ?? null;
    if (head !== diffHead) {
      diffHead = head;
      void loadDiff();
    }
  }

  function renderNow(list) {
    running = list ?? [];
    now.hidden = running.length === 0;
    if (running.length > 0) fill(now, nowCard(running));
  }

  function renderHeader(state) {
    const usage = state.usage ?? {};
    const cost = usage.costUsd !== undefined ? ` · $${usage.costUsd.toFixed(4)}` : '';
    const ended = TERMINAL_PHASES.includes(state.phase);
    fill(
      header,
      h(
        'div',
        { class: 'title-row' },
        h('h1', { class: 'mono' }, state.taskId),
        phaseBadge(state.phase, { 'data-testid': 'task-phase' }),
        state.pendingApproval ? h('span', { class: 'badge waiting' }, `waiting for ${state.pendingApproval.checkpoint} approval`) : null,
        h('span', { class: 'spacer' }),
        ended ? null : h('button', { class: 'danger-outline', onclick: () => cancel() }, 'Cancel task'),
      ),
      h('p', { class: 'prompt-text' }, state.prompt),
      h(
        'dl',
        { class: 'meta' },
        meta('Repository', h('span', { class: 'mono' }, state.repository)),
        meta('Started', when(state.startedAt)),
        meta('Iterations', `${state.attempts} of ${state.maxIterations}`),
        meta('Tokens', `${usage.totalTokens ?? 0}${cost}`),
        state.taskBranch ? meta('Branch', h('span', { class: 'mono' }, `${state.taskBranch}${state.headSha ? ` @ ${state.headSha.slice(0, 10)}` : ''}`)) : null,
      ),
    );
  }

  function renderFailure(state) {
    failure.hidden = !state.failure;
    fill(failure, state.failure ? h('div', { class: `banner ${state.phase === 'cancelled' ? 'warn' : 'error'}` }, h('strong', {}, `${state.phase}: `), state.failure) : null);
  }

  function renderApproval(pending) {
    const id = pending?.id ?? null;
    if (id === pendingId) return;
    pendingId = id;
    approval.hidden = !pending;
    if (!pending) return fill(approval);
    notice.hidden = true;
    const comment = h('textarea', { name: 'comment', rows: 3, placeholder: pending.checkpoint === 'pr' ? 'Comment (recorded with your decision; to request changes, say what to change)' : 'Comment (optional; recorded with your decision)' });
    const result = h('p', { class: 'small', role: 'status' });
    const buttons = [
      h('button', { class: 'primary', 'data-testid': 'approve', onclick: () => decide(true) }, 'Approve'),
      h('button', { class: 'danger', 'data-testid': 'reject', onclick: () => decide(false) }, 'Reject'),
    ];
    // Only a pull request can go back to coding: the comment says what to change (the API refuses it without one).
    if (pending.checkpoint === 'pr') buttons.splice(1, 0, h('button', { 'data-testid': 'revise', onclick: () => decide(false, true) }, 'Request changes'));
    async function decide(approved, revise = false) {
      buttons.forEach((b) => (b.disabled = true));
      try {
        const body = { approved, checkpoint: pending.checkpoint, requestId: pending.id, comment: comment.value.trim() || undefined, channel: 'console', revise: revise || undefined };
        const accepted = await call(taskPath(taskId, '/decision'), { method: 'POST', body });
        notice.hidden = false;
        const done = approved ? 'Approved' : revise ? 'Sent back for changes' : 'Rejected';
        fill(notice, h('div', { class: 'banner ok', role: 'status' }, `${done} "${accepted.checkpoint}" as ${accepted.reviewer}.`));
      } catch (error) {
        if (error.isAuth) return shell.fail(error);
        fill(result, h('span', { class: 'error-text' }, error.message));
        buttons.forEach((b) => (b.disabled = false));
      }
    }
    fill(
      approval,
      h(
        'section',
        { class: 'card approval', 'data-testid': 'approval' },
        h('h2', {}, 'Your decision: ', h('span', { 'data-testid': 'pending-checkpoint' }, pending.checkpoint)),
        h('p', { class: 'muted small' }, `Requested ${when(pending.requestedAt)}; the task fails if nobody decides by ${when(pending.expiresAt)}.`),
        h('pre', { class: 'context' }, pending.context),
        comment,
        h('div', { class: 'row' }, buttons),
        result,
      ),
    );
  }

  async function loadDiff() {
    fill(diff, h('h2', {}, 'Diff'), h('p', { class: 'muted' }, diffHead ? 'Loading…' : 'No commits yet.'));
    if (!diffHead) return;
    try {
      fill(diff, diffCard(await call(taskPath(taskId, '/diff'), { signal: stop.signal })));
    } catch (error) {
      if (stop.signal.aborted) return;
      if (error.isAuth) return shell.fail(error);
      fill(diff, h('h2', {}, 'Diff'), h('p', { class: 'muted' }, error.message));
    }
  }

  async function loadDetail() {
    try {
      const detail = await call(taskPath(taskId), { signal: stop.signal });
      render(detail.state);
      renderNow(detail.running);
      fill(checkpoints, checkpointsCard(detail.checkpoints));
      return true;
    } catch (error) {
      if (stop.signal.aborted) return false;
      if (error.isAuth) shell.fail(error);
      else fill(header, h('h1', { class: 'mono' }, taskId), h('p', { class: 'banner error', role: 'alert' }, error.message));
      return false;
    }
  }

  async function follow() {
    while (!stop.signal.aborted) {
      try {
        fill(live, '● live');
        if (await followEvents(taskId, onEvent, stop.signal)) {
          fill(live, 'The task has ended.');
          return;
        }
        if (stop.signal.aborted) return;
        fill(live, 'Live updates interrupted (the server closed the stream); reconnecting…');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error.isAuth) return shell.fail(error);
        fill(live, `Live updates interrupted (${error.message}); reconnecting…`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  function onEvent(name, data) {
    if (name === 'state') render(data);
    if (name === 'progress') renderNow(data);
    if (name === 'end') renderNow([]);
    // Checkpoints live in the store: fetch them again when the task moved on.
    if (name === 'phase' || name === 'end') void loadDetail();
  }

  async function cancel() {
    if (!window.confirm(`Cancel task ${taskId}? The running step stops and the task ends as cancelled.`)) return;
    try {
      await call(taskPath(taskId, '/cancel'), { method: 'POST', body: { reason: 'cancelled from the web console' } });
    } catch (error) {
      shell.fail(error);
    }
  }

  void loadDetail().then((ok) => ok && follow());
  return { element, stop: () => stop.abort() };
}

function meta(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}
