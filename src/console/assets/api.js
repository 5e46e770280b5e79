// The console's side of the HTTP API: JSON calls, problem documents as errors, the event stream.

const TOKEN_KEY = 'ado.apiToken';

/** An API failure, carrying its RFC 9457 problem document. */
export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.problem = problem;
    this.status = problem.status;
  }

  /** The API wants a (different) token. */
  get isAuth() {
    return this.status === 401 || this.status === 403;
  }
}

/** The bearer token, kept for this browser tab only. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

function headers(extra = {}) {
  const value = token.get();
  return value ? { ...extra, authorization: `Bearer ${value}` } : extra;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { status: response.status, title: response.statusText, detail: `HTTP ${response.status} ${response.statusText}` };
  }
}

/** Calls the API; resolves with the JSON answer, rejects with an ApiError. */
export async function call(path, { method = 'GET', body, signal } = {}) {
  const response = await fetch(path, {
    method,
    signal,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(await problemOf(response));
  return response.json();
}

export const taskPath = (taskId, rest = '') => `/api/tasks/${encodeURIComponent(taskId)}${rest}`;

/**
 * Reads the task's server-sent events and calls onEvent(name, data) for each. Resolves when the
 * stream ends: true when the server sent `end` (the task has ended), false when the stream just
 * closed (the server stopped or restarted; follow again). fetch, not EventSource: EventSource
 * cannot send the Authorization header.
 */
export async function followEvents(taskId, onEvent, signal) {
  const response = await fetch(taskPath(taskId, '/events'), { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!response.ok) throw new ApiError(await problemOf(response));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return ended;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (event === 'end') ended = true;
      if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
    }
  }
}
