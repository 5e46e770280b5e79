/**
 * The shared remotes over HTTP: git's own smart-HTTP server (`git http-backend`, a CGI program)
 * behind a small Node server that checks a token. Workers on other machines fetch and push task
 * branches here, so they share no disk. Every repository is bare and flat under one root
 * (`<root>/<name>.git`); an authenticated request for a missing one creates it, which is how
 * ADO's import makes a new mirror.
 */
import { spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { silentLogger, type Logger } from '../telemetry/logger';
import { gitConfigEnv, HARDENED_CONFIG } from '../workspace/git';
import { ensureBare } from '../workspace/shared-remote';

export interface GitServerOptions {
  /** Folder of the bare repositories. */
  root: string;
  /** Accepted as `Authorization: Bearer <token>` or as the password of basic auth. */
  token: string;
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  logger?: Logger;
}

export interface RunningGitServer {
  /** Base URL of the repositories: `<url>/<name>.git`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `/<name>.git/<git path>`: one level, no dot-dot, nothing git would not name itself. */
const REPOSITORY_PATH = /^\/([A-Za-z0-9_][A-Za-z0-9._-]*\.git)(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/[0-9a-zA-Z/._-]+))$/;

/** Starts the server; it serves until `close()`. */
export async function startGitServer(options: GitServerOptions): Promise<RunningGitServer> {
  if (options.token.length < 16) throw new Error('The git server token must be at least 16 characters');
  const logger = options.logger ?? silentLogger();
  const root = path.resolve(options.root);
  const server = createServer((req, res) => {
    handle(req, res, { root, token: options.token, logger }).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'Git request failed');
      if (!res.headersSent) res.writeHead(500).end('git server error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port, address } = server.address() as { port: number; address: string };
  return {
    url: `http://${address}:${port}/git`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: { root: string; token: string; logger: Logger }): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://git');
  if (url.pathname === '/healthz') {
    res.writeHead(200).end('ok\n');
    return;
  }
  if (!authorized(req.headers.authorization, ctx.token)) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ado-git"' }).end('token required\n');
    return;
  }
  const match = url.pathname.startsWith('/git/') ? REPOSITORY_PATH.exec(url.pathname.slice('/git'.length)) : null;
  if (!match?.[1] || !match[2]) {
    res.writeHead(404).end('no such repository path\n');
    return;
  }
  await ensureBare(path.join(ctx.root, match[1]));
  await runBackend(req, res, { ...ctx, pathInfo: `/${match[1]}${match[2]}`, query: url.search.slice(1) });
}

/** Bearer token, or basic auth whose password is the token (what git sends from a credential). */
function authorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme = '', value = ''] = header.split(' ', 2);
  let given = '';
  if (scheme.toLowerCase() === 'bearer') given = value;
  else if (scheme.toLowerCase() === 'basic') given = Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Runs `git http-backend` for one request: CGI variables in, the request body on stdin, the CGI answer out. */
async function runBackend(req: IncomingMessage, res: ServerResponse, ctx: { root: string; pathInfo: string; query: string; logger: Logger }): Promise<void> {
  const settings: Array<readonly [string, string]> = [
    ...HARDENED_CONFIG.map((setting) => setting.split('=', 2) as [string, string]),
    // Workers fetch commits by id (the workflow passes shas, not branch names).
    ['uploadpack.allowAnySHA1InWant', 'true'],
    ['http.receivepack', 'true'],
  ];
  const child = spawn('git', ['http-backend'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: ctx.root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: ctx.root,
      PATH_INFO: ctx.pathInfo,
      QUERY_STRING: ctx.query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'ado',
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      ...gitConfigEnv(settings),
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    let head = Buffer.alloc(0);
    let started = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      started = true;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else if (name) headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) ctx.logger.warn({ code, pathInfo: ctx.pathInfo, stderr: stderr.slice(0, 500) }, 'git http-backend failed');
      if (!started) res.writeHead(500);
      res.end();
      resolve();
    });
  });
}
