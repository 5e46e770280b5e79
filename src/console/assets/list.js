// The task list: newest first, with phase and age, refreshed every few seconds.
import { call } from './api.js';
import { age, fill, firstLine, h, phaseBadge, when } from './dom.js';
import { TASK_PHASES } from './phases.js';

const REFRESH_MS = 3000;

export function listView(shell) {
  const body = h('tbody');
  const status = h('p', { class: 'muted small' });
  const phase = h(
    'select',
    { 'aria-label': 'Phase', onchange: () => refresh() },
    h('option', { value: '' }, 'all phases'),
    TASK_PHASES.map((p) => h('option', { value: p }, p)),
  );
  const element = h(
    'section',
    {},
    h('div', { class: 'heading' }, h('h1', {}, 'Tasks'), h('label', { class: 'filter' }, 'Show ', phase)),
    h(
      'div',
      { class: 'card flush' },
      h('table', { class: 'tasks', 'data-testid': 'task-list' }, h('thead', {}, h('tr', {}, ['Task', 'Phase', 'What', 'Repository', 'Age'].map((c) => h('th', {}, c)))), body),
    ),
    status,
  );
  let timer;
  let stopped = false;

  async function refresh() {
    clearTimeout(timer);
    try {
      const query = phase.value ? `?phase=${encodeURIComponent(phase.value)}` : '';
      const { tasks } = await call(`/api/tasks${query}`);
      if (stopped) return;
      fill(body, tasks.length === 0 ? emptyRow() : tasks.map(row));
      fill(status, `Updated ${new Date().toLocaleTimeString(undefined, { hour12: false })} · refreshes every ${REFRESH_MS / 1000} s`);
    } catch (error) {
      if (stopped) return;
      if (error.isAuth) return shell.fail(error);
      fill(status, h('span', { class: 'error-text' }, `Could not load the tasks: ${error.message}`));
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  void refresh();
  return {
    element,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function row(task) {
  const link = `#/tasks/${encodeURIComponent(task.taskId)}`;
  const ended = task.closeTime ? ` · ended ${when(task.closeTime)}` : '';
  return h(
    'tr',
    { 'data-task-id': task.taskId },
    h('td', {}, h('a', { href: link, class: 'mono' }, task.taskId)),
    h('td', {}, phaseBadge(task.phase), task.status !== 'RUNNING' && task.status !== 'COMPLETED' ? h('span', { class: 'muted small' }, ` ${task.status.toLowerCase()}`) : null),
    h('td', { class: 'prompt' }, firstLine(task.prompt) || h('span', { class: 'muted' }, '—')),
    h('td', { class: 'mono small', title: task.repository ?? '' }, shortRepository(task.repository)),
    h('td', { title: `started ${when(task.startTime)}${ended}` }, age(task.startTime)),
  );
}

function emptyRow() {
  return h('tr', {}, h('td', { colspan: 5, class: 'muted empty' }, 'No tasks yet. Start one with ', h('code', {}, 'ado run "<prompt>" --repo <path>'), ' or POST /api/tasks.'));
}

function shortRepository(repository) {
  if (!repository) return '';
  const parts = repository.replace(/\/+$/, '').split(/[/:]/);
  return parts.slice(-2).join('/');
}
