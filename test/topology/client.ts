/**
 * Driving a running topology from outside, as a user would: a repository pushed to its git
 * server, tasks started and watched through the ADO API with the API token.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git, gitConfigEnv, identityEnv } from '../../src/workspace/git';
import { authorizationHeader } from '../../src/workspace/shared-remote';
import type { TopologyState } from '../../src/topology/topology';

/** git environment that carries the topology's git token to its server. */
export function gitServerEnv(state: TopologyState): Record<string, string> {
  return gitConfigEnv([[`http.${state.gitUrl}/.extraHeader`, authorizationHeader(state.clientEnv.ADO_GIT_REMOTES_CREDENTIALS ?? '')]], process.env);
}

/** Creates a repository with `files` and pushes its main branch to `<gitUrl>/<name>.git`; returns that URL. */
export async function pushUserRepository(state: TopologyState, name: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-user-repo-'));
  try {
    // Not test/helpers/git-repos: the chaos harness runs outside vitest.
    await git(['init', '--quiet', '--initial-branch=main', dir]);
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), content);
    }
    await git(['add', '--all'], { cwd: dir });
    await git(['commit', '--quiet', '-m', 'initial'], { cwd: dir, env: identityEnv() });
    const url = `${state.gitUrl}/${name}.git`;
    await git(['push', '--quiet', url, 'main:refs/heads/main'], { cwd: dir, env: gitServerEnv(state) });
    return url;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ApiTask {
  state: { phase: string; pullRequest?: { url: string; headSha: string; merged: boolean }; headSha?: string; errors: Array<{ message: string }>; failure?: string } | null;
}

async function api<T>(state: TopologyState, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${state.apiUrl}/api${route}`, {
    method,
    headers: { authorization: `Bearer ${state.clientEnv.ADO_API_TOKEN ?? ''}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Starts a task through the API; returns its id. */
export async function startTask(state: TopologyState, input: { taskId: string; prompt: string; repository: string; maxIterations?: number }): Promise<string> {
  const res = await api<{ taskId?: string; detail?: string }>(state, 'POST', '/tasks', { ...input, hitl: false });
  if (res.status !== 201 || !res.body.taskId) throw new Error(`POST /api/tasks answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.taskId;
}

/** The task as the API shows it; `undefined` while the API cannot answer (a fault is on). */
export async function getTask(state: TopologyState, taskId: string): Promise<ApiTask | undefined> {
  try {
    const res = await api<ApiTask>(state, 'GET', `/tasks/${taskId}`);
    return res.status === 200 ? res.body : undefined;
  } catch {
    return undefined;
  }
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Polls the API until the task reaches a terminal phase or `timeoutMs` passes (then the last view). */
export async function waitForTask(state: TopologyState, taskId: string, timeoutMs: number): Promise<ApiTask | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiTask | undefined;
  while (Date.now() < deadline) {
    last = (await getTask(state, taskId)) ?? last;
    if (last?.state && TERMINAL.has(last.state.phase)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}
