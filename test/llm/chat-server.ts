/**
 * A real HTTP server on 127.0.0.1 speaking the Chat Completions shape, scripted per request, that
 * records what it was sent. For tests of LLM clients; `close()` stops it and its connections.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Resolves when the client's connection for this request closes. */
  closed: Promise<void>;
}

/** Answers request number `index` (0-based); may hold the response as long as it likes. */
export type ChatHandler = (request: ReceivedRequest, res: ServerResponse, index: number) => void | Promise<void>;

export interface ChatServer {
  /** Base URL to give a client (`http://127.0.0.1:<port>`). */
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A chat completion body with `content` and the given usage. */
export function completion(content: string, usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }, model = 'served-model') {
  return { id: 'chatcmpl-test', object: 'chat.completion', model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }], usage };
}

/** A chat completion whose answer is `calls`, in the OpenAI tool-calling format. */
export function toolCallsCompletion(calls: { id: string; name: string; arguments: unknown }[]) {
  const answer = completion('');
  answer.choices[0]!.message = {
    role: 'assistant',
    content: null,
    tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
  } as never;
  return answer;
}

/** Sends `body` as JSON with `status` and extra `headers`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startChatServer(handler: ChatHandler): Promise<ChatServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        closed,
      };
      requests.push(request);
      Promise.resolve(handler(request, res, requests.length - 1)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 599, { error: { message: `test handler failed: ${String(err)}` } });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that was free a moment ago (nothing listens on it until someone binds it). */
export async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
