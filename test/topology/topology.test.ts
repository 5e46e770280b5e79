/**
 * The production topology on one machine, brought up for real (`deploy/topology`'s code): Debian's
 * PostgreSQL, the Temporal server built from the module proxy, the git server, the API and the
 * three worker pools as separate processes that share no folder; then one whole task through the
 * API, with the model a loopback OpenAI-compatible server. `npm run test:topology`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTopology, type RunningTopology } from '../../src/topology/topology';
import { git } from '../../src/workspace/git';
import { pushUserRepository, startTask, waitForTask } from './client';
import { startModelDouble, writeDirective, type ModelDouble } from './model-double';

let dir: string;
let model: ModelDouble;
let topology: RunningTopology;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ado-topology-'));
  model = await startModelDouble();
  topology = await startTopology({
    dir,
    env: { ADO_LLM_PROVIDER: 'openai', ADO_LLM_BASE_URL: model.url, ADO_LLM_API_KEY: '', ADO_LLM_MODEL: 'model-double', ADO_LOG_LEVEL: 'info' },
    log: (line) => process.stdout.write(`[topology] ${line}\n`),
  });
}, 20 * 60_000);

afterAll(async () => {
  await topology?.stop();
  await model?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the production topology', () => {
  it('runs every part as its own process', () => {
    const processes = topology.supervisor.status();
    expect(processes.map((p) => p.name)).toEqual(['postgres', 'temporal', 'git-server', 'api', 'worker-task', 'worker-code', 'worker-review']);
    expect(processes.every((p) => p.state === 'running' && p.pid !== undefined)).toBe(true);
    expect(new Set(processes.map((p) => p.pid)).size).toBe(processes.length);
  });

  it('completes a task through the API with three pools that share no folder', async () => {
    const { state } = topology;
    const repository = await pushUserRepository(state, 'user-app', { 'README.md': '# app\n', '.ado.yml': 'gates:\n  test: "test -f notes/first.txt"\n' });
    const taskId = await startTask(state, { taskId: 'topology-first', prompt: `Add the first note. ${writeDirective('notes/first.txt')}`, repository, maxIterations: 3 });

    const task = await waitForTask(state, taskId, 10 * 60_000);

    expect(task?.state?.phase, JSON.stringify(task?.state?.errors ?? task)).toBe('completed');
    const head = task?.state?.pullRequest?.headSha ?? '';
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    // The commit is on the git server (the only place the pools share), with the model's file.
    const served = path.join(dir, 'git');
    const remotes = (await git(['for-each-ref', '--format=%(refname)'], { cwd: path.join(served, 'user-app.git') })).split('\n');
    expect(remotes).toContain('refs/heads/main');
    const mirrors = (await readdir(served)).filter((name) => name.startsWith('user-app-'));
    expect(mirrors).toHaveLength(1);
    expect(await git(['show', `${head}:notes/first.txt`], { cwd: path.join(served, mirrors[0]!) })).toBe('notes/first.txt');
    // Each pool did its share in its own process: the workflow, the code, the gates and the PR.
    const log = (name: string) => readFile(path.join(dir, 'logs', `${name}.log`), 'utf8');
    expect(await log('worker-code')).toContain(taskId);
    expect(await log('worker-review')).toContain(taskId);
    // As the pools ran: the shared remotes are a URL, and every folder a pool uses is its own.
    const folders = await Promise.all(
      topology.supervisor.status().filter((p) => p.name.startsWith('worker-')).map(async (p) => {
        const environ = Object.fromEntries((await readFile(`/proc/${p.pid}/environ`, 'utf8')).split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
        expect(environ.ADO_GIT_REMOTES).toBe(state.gitUrl);
        return [environ.ADO_HOME, environ.ADO_WORKSPACES, environ.ADO_GIT_CACHE, environ.TMPDIR];
      }),
    );
    expect(new Set(folders.flat()).size).toBe(12);
    // The model was asked once per step: no step was done twice.
    expect(Object.fromEntries(model.answered)).toEqual({ 'notes/first.txt|plan': 1, 'notes/first.txt|decompose': 1, 'notes/first.txt|code': 1 });
  });

  it('leaves no process behind when it stops', async () => {
    const pids = topology.supervisor.status().flatMap((p) => (p.pid ? [p.pid] : []));
    await topology.stop();
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});
