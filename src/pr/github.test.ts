import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoRef } from '../domain/repo-ref';
import { FailureType } from '../domain/errors';
import { importedRepo, pushChange, useGitTestFolder } from '../../test/helpers/git-repos';
import { capturingLogger } from '../../test/helpers/logger';
import { git } from '../workspace/git';
import { GitHubPullRequestProvider } from './github';
import { parseGitHubRepository } from './github-repository';

const TOKEN = 'ghp_test_token_0123456789';

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
class FakeGitHub {
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

    if (!/^(token|bearer) /i.test(req.headers.authorization ?? '') || !req.headers.authorization?.endsWith(` ${TOKEN}`)) {
      return json(401, { message: 'Bad credentials' });
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
    if (authorization !== `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
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

const work = useGitTestFolder('github-pr');
let github: FakeGitHub;
/** The task's commit in the shared remote, for repository `acme/app`. */
let task: RepoRef;

beforeAll(async () => {
  const base = await importedRepo(work(), 'app', { 'README.md': '# app\n', 'src/a.ts': 'export const a = 1;\n' });
  github = new FakeGitHub(path.join(work(), 'served'));
  await git(['clone', '--quiet', '--bare', base.repository, github.repoDir]);
  await github.start();
  const sha = await pushChange(work(), base, 'ado/t1', { 'src/a.ts': 'export const a = 2;\n', 'src/b.ts': 'export const b = 1;\n' });
  task = { repository: 'https://github.com/acme/app.git', remote: base.remote, sha };
});
afterAll(() => github.stop());

const openInput = (repo: RepoRef, baseBranch = 'main') => ({
  taskId: 't1',
  repo,
  baseBranch,
  headBranch: 'ado/t1',
  title: '[ADO] Bump a',
  description: 'The plan',
});

describe('GitHubPullRequestProvider', () => {
  it('pushes the head with the token in a header, opens the pull request once, and finds it on a second open', async () => {
    const { logger, text } = capturingLogger('debug');
    const provider = new GitHubPullRequestProvider({ token: TOKEN, apiUrl: github.apiUrl, pushUrl: github.pushUrl, logger });

    const pr = await provider.open(openInput(task));
    const again = await provider.open(openInput(task));

    expect(await git(['rev-parse', 'refs/heads/ado/t1'], { cwd: github.repoDir })).toBe(task.sha);
    expect(github.gitAuthorizations.length).toBeGreaterThan(0);
    expect(new Set(github.gitAuthorizations)).toEqual(new Set([`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`]));
    expect(pr).toEqual({
      provider: 'github',
      id: 'acme/app#1',
      number: 1,
      url: 'https://github.example/acme/app/pull/1',
      title: '[ADO] Bump a',
      baseBranch: 'main',
      headBranch: 'ado/t1',
      headSha: task.sha,
      merged: false,
      stats: { commits: 1, filesChanged: 2, insertions: 2, deletions: 1 },
    });
    expect(again).toEqual(pr);
    expect(github.requests.filter((r) => r.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/v3/repos/acme/app/pulls', body: { head: 'ado/t1', base: 'main', title: '[ADO] Bump a', body: 'The plan' } },
    ]);
    expect(github.requests.some((r) => r.method === 'GET' && r.path.includes('head=acme%3Aado%2Ft1') && r.path.includes('state=all'))).toBe(true);
    expect(text()).not.toContain(TOKEN);

    // Merge: once, for the reviewed head only.
    const merged = await provider.merge(pr);
    expect(merged).toEqual({ ...pr, merged: true });
    expect(await provider.merge(pr)).toEqual(merged);
    expect(github.requests.filter((r) => r.method === 'PUT')).toEqual([
      { method: 'PUT', path: '/api/v3/repos/acme/app/pulls/1/merge', body: { sha: task.sha, merge_method: 'merge' } },
    ]);
  });

  it('rejects a bad token with a clear non-retryable error that does not show the token', async () => {
    const { logger, text } = capturingLogger('debug');
    const provider = new GitHubPullRequestProvider({ token: 'ghp_wrong_token', apiUrl: github.apiUrl, pushUrl: github.pushUrl, logger });
    const info = { provider: 'github', id: 'acme/app#1', number: 1, url: '', title: '', baseBranch: 'main', headBranch: 'ado/t1', headSha: task.sha, merged: false };

    const apiErr = await provider.merge(info).catch((e: unknown) => e);
    expect(apiErr).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((apiErr as Error).message).toBe('Could not read pull request #1 of acme/app: GitHub answered 401: Bad credentials. Set GITHUB_TOKEN to a valid token');

    const pushErr = await provider.open(openInput(task)).catch((e: unknown) => e);
    expect(pushErr).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((pushErr as Error).message).toMatch(
      /^Could not push ado\/t1 to http:\/\/127\.0\.0\.1:\d+\/git\/acme\/app\.git: the credentials were refused \(.+\)\. Set GITHUB_TOKEN to a token that may push to the repository$/s,
    );
    expect(`${(apiErr as Error).message}${(pushErr as Error).message}${text()}`).not.toContain('ghp_wrong_token');
  });

  it('explains a repository GitHub does not know and a base branch it rejects', async () => {
    const provider = new GitHubPullRequestProvider({ token: TOKEN, apiUrl: github.apiUrl, pushUrl: github.pushUrl });

    const missing = await provider.open(openInput({ ...task, repository: 'git@github.com:acme/missing.git' })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ type: FailureType.RepositoryError, nonRetryable: true });
    expect((missing as Error).message).toBe(
      'Could not list pull requests of acme/missing: GitHub answered 404: Not Found. Check the repository URL, and that GITHUB_TOKEN can see the repository',
    );

    const badBase = await provider.open({ ...openInput(task, 'no-such-base'), headBranch: 'ado/t2' }).catch((e: unknown) => e);
    expect(badBase).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect((badBase as Error).message).toBe('Could not open a pull request on acme/app: GitHub answered 422: Validation Failed; base invalid. Check the base and head branches');
  });
});

describe('parseGitHubRepository', () => {
  it.each([
    ['https://github.com/acme/app', 'acme', 'app'],
    ['https://github.com/acme/app.git/', 'acme', 'app'],
    ['git@github.com:acme/my.app.git', 'acme', 'my.app'],
    ['ssh://git@ghe.example.com:2222/team-1/app_2.git', 'team-1', 'app_2'],
  ])('reads %s', (url, owner, repo) => {
    expect(parseGitHubRepository(url)).toEqual({ owner, repo });
  });

  it.each(['/home/me/app', 'https://github.com/acme', 'not a url'])('refuses %s with what to give instead', (url) => {
    expect(() => parseGitHubRepository(url)).toThrow(/Cannot tell the GitHub repository from .*https:\/\/github\.com\/<owner>\/<repo>/);
  });
});
