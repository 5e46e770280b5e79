// Small DOM helpers: every value goes in as text, never as HTML.

/** Creates an element: attributes (on* = listeners, class, data-*), then children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function phaseBadge(phase, attrs = {}) {
  return h('span', { class: `badge phase-${phase ?? 'unknown'}`, ...attrs }, phase ?? 'unknown');
}

/** "5s", "3m", "2h", "4d" since `iso`. */
export function age(iso) {
  const seconds = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** Local date and time, to the second. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '';
}

/** Local time of day only. */
export function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString(undefined, { hour12: false }) : '';
}

export function firstLine(text) {
  return (text ?? '').trim().split('\n')[0] ?? '';
}
