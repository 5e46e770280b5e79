/**
 * Server-sent event streams (text/event-stream): one per watching client, with heartbeat comments
 * so proxies keep the connection open, ended when the client goes away or the server closes.
 */
import type { FastifyReply } from 'fastify';

export interface SseStream {
  /** Sends one event; a no-op once the stream has ended. */
  send(event: string, data: unknown): void;
  /** Aborted when the client goes away or the stream is closed. */
  readonly signal: AbortSignal;
  close(): void;
}

/** The open streams of one server, so closing the server ends them instead of waiting for them. */
export class SseStreams {
  private readonly open = new Set<SseStream>();

  constructor(private readonly heartbeatMs: number) {}

  /** Takes the response over from fastify and starts the stream. */
  start(reply: FastifyReply): SseStream {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const controller = new AbortController();
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), this.heartbeatMs);
    const stream: SseStream = {
      signal: controller.signal,
      send: (event, data) => {
        if (!controller.signal.aborted) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      close: () => {
        if (controller.signal.aborted) return;
        controller.abort();
        clearInterval(heartbeat);
        this.open.delete(stream);
        raw.end();
      },
    };
    raw.once('close', () => stream.close());
    this.open.add(stream);
    return stream;
  }

  closeAll(): void {
    for (const stream of [...this.open]) stream.close();
  }
}
