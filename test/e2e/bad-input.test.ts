/**
 * Bad input, one table, both edges: each case runs through `ado run` (in process) and
 * `POST /api/tasks` (the real route, a real TaskClient), against a real Temporal server. Each must
 * end with a non-zero exit or a 4xx, one clear message, no workflow started, and no repository
 * changed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApiServer } from '../../src/api/server';
import { main } from '../../src/cli/main';
import { HITLHandler } from '../../src/client/hitl-handler';
import { TaskClient } from '../../src/client/task-client';
import type { AdoStore } from '../../src/store/types';
import { silentLogger } from '../../src/telemetry/logger';
import { git, identityEnv } from '../../src/workspace/git';
import { createTestActivities } from '../fakes/test-activities';
import { commitFiles, createRepo, useGitTestFolder } from '../helpers/git-repos';
import { startLocalEnv, uniqueTaskId, withWorkers } from '../helpers/temporal';

const TOKEN = 'bad-input-test-token-0123456789abcdef';
const work = useGitTestFolder('bad-input');
let env: TestWorkflowEnvironment;
let address: string;
let api: FastifyInstance;
let tasks: TaskClient;
const repos: Record<string, string> = {};
const ids = { done: uniqueTaskId('done'), running: uniqueTaskId('running') };

beforeAll(async () => {
  const dir = work();
  const repo = async (name: string, files: Record<string, string> | null) => {
    repos[name] = path.join(dir, name);
    if (files) await createRepo(repos[name], files);
    else await git(['init', '--quiet', '--initial-branch=main', repos[name]]);
  };
  await repo('good', { 'README.md': '# good\n' });
  await repo('empty', null);
  await repo('badYaml', { '.ado.yml': 'gates:\n  test: [unclosed\n' });
  await repo('badField', { '.ado.yml': 'gates:\n  tset: npm test\n' });
  await repo('badJson', { 'ado.config.json': '{"gates": ' });
  await repo('both', { '.ado.yml': 'gates:\n  test: npm test\n', 'ado.config.json': '{}' });
  await repo('detached', { 'a.txt': 'a' });
  const first = await git(['rev-parse', 'HEAD'], { cwd: repos.detached });
  await commitFiles(repos.detached!, { 'b.txt': 'b' });
  await git(['checkout', '--quiet', '--detach', first], { cwd: repos.detached });
  repos.plain = path.join(dir, 'plain');
  await mkdir(repos.plain);
  await writeFile(path.join(repos.plain, 'x'), 'x');
  repos.inside = path.join(repos.good!, 'sub');
  await mkdir(repos.inside);
  await git(['commit', '--quiet', '--allow-empty', '-m', 'second'], { cwd: repos.good, env: identityEnv() });

  env = await startLocalEnv();
  address = (env.connection.options as { address: string }).address;
  tasks = new TaskClient(env.client);
  // One task that ended (served by test workers) and one that runs on (no worker polls its queue).
  await withWorkers(env, createTestActivities().activities, async ({ prefix }) => {
    const done = await new TaskClient(env.client, prefix).start({ taskId: ids.done, prompt: 'done', repository: repos.good!, branch: '', hitlEnabled: false });
    await env.client.workflow.getHandle(done.workflowId).result();
  });
  await tasks.start({ taskId: ids.running, prompt: 'waits', repository: repos.good!, branch: '', hitlEnabled: false });
  api = await buildApiServer({
    tasks,
    hitl: new HITLHandler(env.client),
    store: { tasks: { getMany: async () => [] } } as unknown as AdoStore,
    auth: { tokens: [{ name: 'alice', token: TOKEN }] },
    logger: silentLogger(),
  });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

/** Runs `ado --address <test server> <argv>` in this process; returns exit code and output. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => ((out[key] += chunk.toString()), true);
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(sink('stdout'));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(sink('stderr'));
  try {
    return { code: await main(['node', 'ado', '--address', address, ...argv]), ...out };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

/** Every workflow the server holds, with its runs, and every ref and working tree of the test repositories. */
async function snapshot(): Promise<string> {
  const runs: string[] = [];
  for await (const info of env.client.workflow.list()) runs.push(`${info.workflowId}/${info.runId}`);
  const refs = await Promise.all(
    Object.entries(repos).map(async ([name, dir]) => `${name}: ${await git(['for-each-ref'], { cwd: dir }).catch(() => '-')} ${await git(['status', '--porcelain'], { cwd: dir }).catch(() => '-')}`),
  );
  return [...runs.sort(), ...refs].join('\n');
}

interface Case {
  name: string;
  /** `ado run` arguments after the prompt (undefined: the case is API-only). */
  args?: string[];
  prompt?: string;
  /** The API body (undefined: CLI-only); the prompt defaults to `prompt`. */
  body?: Record<string, unknown>;
  /** Exit code of `ado run`: 1 (refused by ADO) or 2 (refused by the parser). */
  code?: number;
  status?: number;
  /** What the one message says. */
  says: RegExp;
}

const cases: Array<Omit<Case, 'args' | 'body'> & { args?: () => string[]; body?: () => Record<string, unknown> }> = [
  { name: 'a blank prompt', prompt: '  ', args: () => ['--repo', repos.good!], body: () => ({ repository: repos.good }), says: /the task prompt is empty|not blank/ },
  { name: 'a NUL byte in the prompt', prompt: 'fix\u0000it', args: () => ['--repo', repos.good!], body: () => ({ repository: repos.good }), says: /NUL bytes/ },
  { name: 'an unpaired surrogate in the prompt', prompt: 'fix \uD800 it', args: () => ['--repo', repos.good!], body: () => ({ repository: repos.good }), says: /unpaired surrogates/ },
  { name: 'a prompt over the limit', prompt: 'x'.repeat(20_001), args: () => ['--repo', repos.good!], body: () => ({ repository: repos.good }), says: /20000|20,000/ },
  { name: 'a repository that does not exist', args: () => ['--repo', '/no/such/repo'], body: () => ({ repository: '/no/such/repo' }), says: /\/no\/such\/repo does not exist/ },
  { name: 'a folder that is not a git repository', args: () => ['--repo', repos.plain!], body: () => ({ repository: repos.plain }), says: /is not a git repository/ },
  { name: 'a repository with no commits', args: () => ['--repo', repos.empty!], body: () => ({ repository: repos.empty }), says: /has no commits yet: commit your code first/ },
  { name: 'a repository in a detached HEAD, no --branch', args: () => ['--repo', repos.detached!], body: () => ({ repository: repos.detached }), says: /detached HEAD\?\): pass --branch/ },
  { name: 'a --branch that does not exist', args: () => ['--repo', repos.good!, '--branch', 'nope'], body: () => ({ repository: repos.good, branch: 'nope' }), says: /Branch nope does not exist in .*its branches: main/ },
  { name: 'a --branch that is no branch name', args: () => ['--repo', repos.good!, '--branch', 'a..b'], body: () => ({ repository: repos.good, branch: 'a..b' }), says: /"a\.\.b" is not a valid git branch name/ },
  { name: 'a --branch in an empty repository', args: () => ['--repo', repos.empty!, '--branch', 'main'], body: () => ({ repository: repos.empty, branch: 'main' }), says: /Branch main does not exist .*no commits yet/ },
  { name: 'a file:// URL where no repository is', args: () => ['--repo', 'file:///no/such.git'], body: () => ({ repository: 'file:///no/such.git' }), says: /Cannot read repository file:\/\/\/no\/such\.git: .*Check the URL/ },
  { name: 'a URL nothing answers at', args: () => ['--repo', 'http://127.0.0.1:1/repo.git'], body: () => ({ repository: 'http://127.0.0.1:1/repo.git' }), says: /Cannot read repository http:\/\/127\.0\.0\.1:1\/repo\.git: .*Check the URL/ },
  { name: 'a .ado.yml that is not YAML', args: () => ['--repo', repos.badYaml!], body: () => ({ repository: repos.badYaml }), says: /config on main \([0-9a-f]{12}\) cannot be used: .*\.ado\.yml.*Fix it and commit/ },
  { name: 'a .ado.yml with an unknown gate', args: () => ['--repo', repos.badField!], body: () => ({ repository: repos.badField }), says: /cannot be used: .*\.ado\.yml.*tset/ },
  { name: 'an ado.config.json that is not JSON', args: () => ['--repo', repos.badJson!], body: () => ({ repository: repos.badJson }), says: /cannot be used: .*ado\.config\.json/ },
  { name: 'both config files', args: () => ['--repo', repos.both!], body: () => ({ repository: repos.both }), says: /Both \.ado\.yml and ado\.config\.json exist/ },
  { name: 'a task id with ".."', args: () => ['--repo', repos.good!, '--task-id', 'x..y'], body: () => ({ repository: repos.good, taskId: 'x..y' }), says: /no "\.\."/ },
  { name: 'a task id ending in .lock', args: () => ['--repo', repos.good!, '--task-id', 'a.lock'], body: () => ({ repository: repos.good, taskId: 'a.lock' }), says: /"\.lock"/ },
  { name: 'a task id ending in "."', args: () => ['--repo', repos.good!, '--task-id', 'end.'], body: () => ({ repository: repos.good, taskId: 'end.' }), says: /ending in "\."/ },
  { name: 'a task id with a slash', args: () => ['--repo', repos.good!, '--task-id', 'a/b'], body: () => ({ repository: repos.good, taskId: 'a/b' }), says: /letters, digits/ },
  { name: 'a task id starting with "-"', args: () => ['--repo', repos.good!, '--task-id=-x'], body: () => ({ repository: repos.good, taskId: '-x' }), says: /starting with a letter or digit/ },
  { name: 'a task id of 101 characters', args: () => ['--repo', repos.good!, '--task-id', 'a'.repeat(101)], body: () => ({ repository: repos.good, taskId: 'a'.repeat(101) }), says: /at most 100/ },
  { name: 'the id of a task that has ended', args: () => ['--repo', repos.good!, '--task-id', ids.done], body: () => ({ repository: repos.good, taskId: ids.done }), status: 409, says: /was used by a task that has ended \(COMPLETED\); a task id names one task forever\. .*ado resume / },
  { name: 'the id of a task that runs', args: () => ['--repo', repos.good!, '--task-id', ids.running], body: () => ({ repository: repos.good, taskId: ids.running }), status: 409, says: /is already running; follow it with `ado status / },
  { name: 'max iterations 0', args: () => ['--repo', repos.good!, '--max-iterations', '0'], body: () => ({ repository: repos.good, maxIterations: 0 }), code: 2, says: /max-iterations|maxIterations/ },
  { name: 'max iterations 101', args: () => ['--repo', repos.good!, '--max-iterations', '101'], body: () => ({ repository: repos.good, maxIterations: 101 }), says: /maxIterations/ },
  { name: 'a token budget that is no number', args: () => ['--repo', repos.good!, '--budget-tokens', 'lots'], body: () => ({ repository: repos.good, budget: { maxTotalTokens: 'lots' } }), code: 2, says: /budget/ },
  { name: 'a cost budget of 0', args: () => ['--repo', repos.good!, '--budget-cost', '0'], body: () => ({ repository: repos.good, budget: { maxCostUsd: 0 } }), code: 2, says: /budget/ },
  { name: 'an approval timeout that is no duration', args: () => ['--repo', repos.good!, '--approval-timeout', 'soon'], body: () => ({ repository: repos.good, approvalTimeout: 'soon' }), code: 2, says: /approval-timeout|approvalTimeout/ },
  { name: 'a blank repository', args: () => ['--repo', ' '], body: () => ({ repository: ' ' }), says: /[Rr]epository/ },
  { name: 'no repository at all', args: () => [], body: () => ({}), code: 2, says: /--repo|repository/ },
  { name: 'an unknown field', body: () => ({ repository: repos.good, prio: 'high' }), says: /prio/ },
  { name: 'hitl as a string', body: () => ({ repository: repos.good, hitl: 'yes' }), says: /hitl/ },
];

describe('bad input to `ado run` and `POST /api/tasks`: refused at once, with one clear message, starting and changing nothing', () => {
  it.each(cases.filter((c) => c.args).map((c) => [c.name, c] as const))('ado run: %s', async (_name, c) => {
    const before = await snapshot();
    const result = await cli(['run', c.prompt ?? 'Add input validation', ...c.args!()]);
    expect(result.code).toBe(c.code ?? 1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    // Commander adds its usage hint on a line of its own.
    expect(lines.filter((line) => !line.startsWith('(run with --help')), result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^(ado: |error: )/);
    expect(lines[0]).toMatch(c.says);
    expect(await snapshot()).toBe(before);
  });

  it.each(cases.filter((c) => c.body).map((c) => [c.name, c] as const))('POST /api/tasks: %s', async (_name, c) => {
    const before = await snapshot();
    const response = await api.inject({
      method: 'POST',
      url: '/api/tasks',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { prompt: c.prompt ?? 'Add input validation', ...c.body!() },
    });
    expect(response.statusCode, response.body).toBe(c.status ?? 400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const problem = response.json<{ detail: string }>();
    expect(problem.detail).toMatch(c.says);
    expect(await snapshot()).toBe(before);
  });

  it('has at least 30 cases for each edge', () => {
    expect(cases.filter((c) => c.args).length).toBeGreaterThanOrEqual(30);
    expect(cases.filter((c) => c.body).length).toBeGreaterThanOrEqual(30);
  });
});
