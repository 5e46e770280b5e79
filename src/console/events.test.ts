/**
 * The console's event stream reader (assets/api.js, browser code run here with fetch stubbed):
 * whether the stream ended because the task ended or merely closed decides whether it follows again.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type FollowEvents = (taskId: string, onEvent: (name: string, data: unknown) => void, signal?: AbortSignal) => Promise<boolean>;

let followEvents: FollowEvents;
const requested: string[] = [];

/** Answers the next `fetch` with an event stream of `body`, sent in small pieces. */
function serveStream(body: string): void {
  vi.stubGlobal('fetch', async (url: string) => {
    requested.push(url);
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  });
}

beforeEach(async () => {
  requested.length = 0;
  vi.stubGlobal('sessionStorage', { getItem: () => null, setItem: () => {}, removeItem: () => {} });
  const module = pathToFileURL(path.join(__dirname, 'assets', 'api.js')).href;
  ({ followEvents } = (await import(module)) as { followEvents: FollowEvents });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('followEvents', () => {
  it('reports the end of the task when the server sent `end` before closing', async () => {
    serveStream('event: state\ndata: {"phase":"coding"}\n\n: heartbeat\n\nevent: end\ndata: {"status":"COMPLETED"}\n\n');
    const events: Array<[string, unknown]> = [];
    expect(await followEvents('task-1', (name, data) => events.push([name, data]))).toBe(true);
    expect(requested).toEqual(['/api/tasks/task-1/events']);
    expect(events).toEqual([
      ['state', { phase: 'coding' }],
      ['end', { status: 'COMPLETED' }],
    ]);
  });

  it('reports a stream the server closed without `end` (shutdown, restart), so the console follows again', async () => {
    serveStream('event: state\ndata: {"phase":"coding"}\n\nevent: phase\ndata: {"phase":"testing"}\n\n');
    const events: string[] = [];
    expect(await followEvents('task-1', (name) => events.push(name))).toBe(false);
    expect(events).toEqual(['state', 'phase']);
  });
});
