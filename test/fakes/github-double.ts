/**
 * A GitHub double for tests: the few REST endpoints ADO uses, over real HTTP on a free loopback
 * port, plus git's own smart-HTTP backend (`/git/<owner>/<repo>.git`) behind GitHub's token check.
 * Serves one repository, `acme/app`; records every API call and the Authorization header of every
 * git request. `TOKEN` may push; `READ_ONLY_TOKEN` may only read.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { git } from '../../src/workspace/git';

export const TOKEN = 'ghp_test_token_0123456789';
export const READ_ONLY_TOKEN = 'ghp_read_only_token_0123456789';

const basic = (token: string) => `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;

interface Pull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged_at: string | null;
}

interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/**
 * The few GitHub endpoints the provider uses, over real HTTP on a free loopback port, plus git's
 * own smart-HTTP backend for pushes. Serves one repository, `acme/app`; records every API call
 * and the Authorization header of every git request.
 */
export class FakeGitHub {
  readonly requests: Recorded[] = [];
  readonly gitAuthorizations: string[] = [];
  readonly pulls: Pull[] = [];
  private server!: Server;

  constructor(readonly gitRoot: string) {}

  get repoDir(): string {
    return path.join(this.gitRoot, 'acme', 'app.git');
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/api/v3`;
  }

  get pushUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/git/acme/app.git`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/git/')) return this.git(req, res, url);
    const body = await readJson(req);
    this.requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, body });
    const json = (status: number, data: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
    };

    const given = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (given !== TOKEN && given !== READ_ONLY_TOKEN) return json(401, { message: 'Bad credentials' });
    const repoRoute = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (repoRoute && req.method === 'GET') {
      if (`${repoRoute[1]}/${repoRoute[2]}` !== 'acme/app') return json(404, { message: 'Not Found' });
      return json(200, { full_name: 'acme/app', private: true, default_branch: 'main', permissions: { pull: true, push: given === TOKEN, admin: false } });
    }
    const route = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?(\/merge)?$/.exec(url.pathname);
    if (!route || `${route[1]}/${route[2]}` !== 'acme/app') return json(404, { message: 'Not Found' });
    const pull = route[3] === undefined ? undefined : this.pulls.find((p) => p.number === Number(route[3]));
    if (route[3] !== undefined && !pull) return json(404, { message: 'Not Found' });

    if (req.method === 'GET' && pull) return json(200, await this.view(pull));
    if (req.method === 'GET') {
      const head = url.searchParams.get('head')?.replace(/^acme:/, '');
      return json(200, await Promise.all(this.pulls.filter((p) => p.head === head).map((p) => this.view(p))));
    }
    if (req.method === 'POST' && !pull) {
      const { head, base, title } = body as { head: string; base: string; title: string };
      if (this.pulls.some((p) => p.head === head && p.state === 'open')) {
        return json(422, { message: 'Validation Failed', errors: [{ message: `A pull request already exists for acme:${head}.` }] });
      }
      for (const [field, branch] of [['head', head], ['base', base]] as const) {
        if ((await this.sha(branch)) === null) return json(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field, code: 'invalid' }] });
      }
      const created: Pull = { number: this.pulls.length + 1, head, base, title, body: String(body.body), state: 'open', merged_at: null };
      this.pulls.push(created);
      return json(201, await this.view(created));
    }
    if (req.method === 'PUT' && pull && route[4]) {
      if (pull.merged_at !== null) return json(405, { message: 'Pull Request is not mergeable' });
      if (body.sha !== (await this.sha(pull.head))) return json(409, { message: 'Head branch was modified. Review and try the merge again.' });
      pull.merged_at = new Date().toISOString();
      pull.state = 'closed';
      return json(200, { merged: true, message: 'Pull Request successfully merged' });
    }
    return json(404, { message: 'Not Found' });
  }

  /** GitHub's pull-request object, with the head sha and stats computed by git from the pushed branches. */
  private async view(pull: Pull): Promise<Record<string, unknown>> {
    const range = [`refs/heads/${pull.base}`, `refs/heads/${pull.head}`];
    const [sha, commits, numstat] = await Promise.all([
      this.sha(pull.head),
      git(['rev-list', '--count', `${range[0]}..${range[1]}`], { cwd: this.repoDir }),
      git(['diff', '--numstat', `${range[0]}...${range[1]}`], { cwd: this.repoDir }),
    ]);
    const rows = numstat.split('\n').filter(Boolean).map((line) => line.split('\t').map(Number));
    return {
      number: pull.number,
      html_url: `https://github.example/acme/app/pull/${pull.number}`,
      title: pull.title,
      state: pull.state,
      merged_at: pull.merged_at,
      merged: pull.merged_at !== null,
      base: { ref: pull.base },
      head: { ref: pull.head, sha },
      commits: Number(commits),
      additions: rows.reduce((sum, r) => sum + (r[0] ?? 0), 0),
      deletions: rows.reduce((sum, r) => sum + (r[1] ?? 0), 0),
      changed_files: rows.length,
    };
  }

  private sha(branch: string): Promise<string | null> {
    return git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: this.repoDir }).catch(() => null);
  }

  /** git-http-backend as a CGI program, behind the same token check GitHub makes. */
  private git(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const authorization = req.headers.authorization ?? '';
    this.gitAuthorizations.push(authorization);
    if (authorization !== basic(TOKEN) && authorization !== basic(READ_ONLY_TOKEN)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    const pushing = url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
    if (pushing && authorization !== basic(TOKEN)) {
      res.writeHead(403).end('Permission to acme/app.git denied to the token.\n');
      return;
    }
    const cgi = spawn(path.join(process.env.GIT_EXEC_PATH ?? '/usr/lib/git-core', 'git-http-backend'), [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.gitRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'x-access-token',
        PATH_INFO: url.pathname.slice('/git'.length),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method,
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, split).toString().split('\r\n');
      const status = Number(/^Status: (\d+)/m.exec(headers.join('\n'))?.[1] ?? 200);
      for (const line of headers.filter((h) => !h.startsWith('Status:'))) {
        const colon = line.indexOf(':');
        res.setHeader(line.slice(0, colon), line.slice(colon + 1).trim());
      }
      res.writeHead(status).end(all.subarray(split + 4));
    });
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

