/**
 * The topology's control socket (`<dir>/control.sock`): one JSON request per line, one JSON answer
 * per line. `deploy/topology status|start|stop|down` and the chaos harness talk to the running
 * supervisor through it.
 */
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { ControlAction, ProcessStatus } from './supervisor';

export const controlRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('status') }),
  z.object({ action: z.literal('down') }),
  z.object({ action: z.enum(['kill', 'stop', 'start', 'restart']), name: z.string().min(1) }),
]);
export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type ControlAnswer = { ok: true; processes: ProcessStatus[] } | { ok: false; error: string };

export function socketPath(dir: string): string {
  return path.join(dir, 'control.sock');
}

/** Serves the control socket with `handle`; returns a function that closes it. */
export async function serveControl(dir: string, handle: (request: ControlRequest) => Promise<ProcessStatus[]>): Promise<() => Promise<void>> {
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        void answer(line).then((reply) => socket.write(`${JSON.stringify(reply)}\n`));
      }
    });
    socket.on('error', () => {});
  });
  const answer = async (line: string): Promise<ControlAnswer> => {
    try {
      const request = controlRequestSchema.parse(JSON.parse(line));
      return { ok: true, processes: await handle(request) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
  const file = socketPath(dir);
  await rm(file, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, resolve);
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends one request to the supervisor of the topology in `dir` and returns its answer. */
export async function sendControl(dir: string, request: ControlRequest, timeoutMs = 30_000): Promise<ProcessStatus[]> {
  const reply = await new Promise<ControlAnswer>((resolve, reject) => {
    const socket = net.connect(socketPath(dir));
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`The topology in ${dir} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      socket.end();
      resolve(JSON.parse(buffer.slice(0, newline)) as ControlAnswer);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`No topology is running in ${dir} (${err.message}); start one with deploy/topology up`, { cause: err }));
    });
  });
  if (!reply.ok) throw new Error(reply.error);
  return reply.processes;
}

/**
 * SIGKILLs (`kill`, restarted by the supervisor like a crash), stops, starts or restarts one
 * process of the running topology in `dir`: the chaos harness's hand.
 */
export function controlProcess(dir: string, name: string, action: ControlAction): Promise<ProcessStatus[]> {
  return sendControl(dir, { action, name });
}
