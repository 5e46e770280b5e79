/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the model: with probability `rate` a
 * request gets a fault instead of the model's answer — 429 with Retry-After, 500, 502, no answer
 * at all (the client's timeout must fire), or a 200 whose content is not what was asked for.
 * Faulted requests never reach the model, so the model's own count stays the count of real answers.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

export const MODEL_FAULTS = ['429', '500', '502', 'hang', 'malformed'] as const;
export type ModelFault = (typeof MODEL_FAULTS)[number];

export interface FaultProxy {
  url: string;
  /** Faults injected, by kind. */
  injected: Map<ModelFault, number>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, options: { rate: number; random?: () => number }): Promise<FaultProxy> {
  const random = options.random ?? Math.random;
  const injected = new Map<ModelFault, number>();
  const hanging = new Set<ServerResponse>();
  const target = new URL(upstream);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const fault = random() < options.rate ? MODEL_FAULTS[Math.floor(random() * MODEL_FAULTS.length)] : undefined;
      if (fault) {
        injected.set(fault, (injected.get(fault) ?? 0) + 1);
        inject(fault, res, hanging);
        return;
      }
      const body = Buffer.concat(chunks);
      const forward = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host, 'content-length': String(body.length) } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `proxy: ${err.message}` } }));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    injected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function inject(fault: ModelFault, res: ServerResponse, hanging: Set<ServerResponse>): void {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  switch (fault) {
    case '429':
      json(429, { error: { message: 'rate limited (injected)' } }, { 'retry-after': '1' });
      return;
    case '500':
      json(500, { error: { message: 'internal error (injected)' } });
      return;
    case '502':
      json(502, { error: { message: 'bad gateway (injected)' } });
      return;
    case 'hang':
      // Never answers; the client's timeout gives up, and the connection is closed with the proxy.
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    case 'malformed':
      json(200, {
        id: 'chatcmpl-injected',
        object: 'chat.completion',
        model: 'fault-proxy',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Sure! Here is what you asked for: {"summary": ' } }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      });
      return;
  }
}
