/**
 * Whole tasks on ADO's real parts, for tests that attack through them: the task workflow on a
 * Temporal dev server, the real activities over a PGlite store, the shared git remotes, the
 * bubblewrap sandbox and the local pull-request provider, with the scripted model replaying a
 * transcript the test writes. A malicious repository and a malicious transcript are all an
 * attack needs.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll } from 'vitest';
import YAML from 'yaml';
import { agentConfigFromEnv, type AgentConfig } from '../../src/agent/config';
import { createActivities } from '../../src/activities';
import type { AdoActivities } from '../../src/activities/interfaces';
import { ScriptedLlmClient } from '../../src/llm/scripted';
import type { Transcript } from '../../src/llm/transcript';
import { LocalPullRequestProvider } from '../../src/pr/local';
import { createSandbox, type CreateSandboxOptions } from '../../src/sandbox';
import { openStore } from '../../src/store/open-store';
import type { AdoStore } from '../../src/store/types';
import { silentLogger } from '../../src/telemetry/logger';
import { git, identityEnv } from '../../src/workspace/git';
import { GitRemotes } from '../../src/workspace/remotes';
import { freshStoreLocation, type FreshStoreLocation } from './postgres';
import { startLocalEnv } from './temporal';

export interface RealParts {
  /** A folder of the test's own, traversable by the sandbox user (workspaces live under it). */
  work: string;
  store: AdoStore;
  close(): Promise<void>;
}

/** A work folder and a PGlite store for one test file. */
export async function openRealParts(): Promise<RealParts> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ado-real-task-'));
  // When the tests run as root, sandboxed commands run as nobody: it must reach the workspaces.
  await chmod(work, 0o755);
  const location: FreshStoreLocation = await freshStoreLocation('pglite');
  const store = await openStore(location.config);
  return {
    work,
    store,
    close: async () => {
      await store.close();
      await location.dispose();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/**
 * A repository at `dir` with one commit on main of `files` (path → content) and `links`
 * (path → symbolic link target), as a user would hand it to ADO.
 */
export async function createRepository(dir: string, files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  await git(['init', '--quiet', '--initial-branch=main', dir]);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  for (const [rel, target] of Object.entries(links)) await symlink(target, path.join(dir, rel));
  await git(['add', '--all'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'initial'], { cwd: dir, env: identityEnv() });
  return dir;
}

/** The code answer of one iteration: a summary and edits, as the model would write them. */
export function codeAnswer(summary: string, edits: unknown[]): string {
  return JSON.stringify({ summary, edits });
}

/** A transcript with a plan, one subtask and the given code answers (iteration 1 first). */
export function transcript(code: string[]): Transcript {
  return {
    version: 1,
    plan: { content: '1. Make the change.' },
    decompose: { content: JSON.stringify({ subtasks: [{ id: '1', title: 'Change', description: 'Make the change.' }] }) },
    code: code.map((content) => ({ content })),
  };
}

/** The real activities, with `answers` as the model and a sandbox built from `sandbox`. */
export async function realActivities(
  parts: RealParts,
  name: string,
  answers: Transcript,
  sandbox: CreateSandboxOptions = {},
  agent: Partial<AgentConfig> = {},
): Promise<AdoActivities> {
  const transcriptPath = path.join(parts.work, `${name}.transcript.yaml`);
  await writeFile(transcriptPath, YAML.stringify(answers));
  const scratchDir = path.join(parts.work, 'scratch');
  await mkdir(scratchDir, { recursive: true, mode: 0o755 });
  const logger = silentLogger();
  return createActivities({
    logger,
    llm: new ScriptedLlmClient({ transcriptPath }),
    store: parts.store,
    notifiers: [],
    sandbox: createSandbox({ backend: 'bubblewrap', logger, ...sandbox }),
    remotes: new GitRemotes({ root: path.join(parts.work, 'git'), logger }),
    scratchDir,
    pullRequests: new LocalPullRequestProvider({ store: parts.store.pullRequests, logger }),
    agent: { ...agentConfigFromEnv({ ADO_CODER_MODE: 'agent' }), ...agent },
  });
}

/** For a test file: a local Temporal dev server and the real parts, started before its tests and closed after. */
export function useRealStack(): { env: () => TestWorkflowEnvironment; parts: () => RealParts } {
  let env: TestWorkflowEnvironment | undefined;
  let parts: RealParts | undefined;
  beforeAll(async () => {
    env = await startLocalEnv();
    parts = await openRealParts();
  });
  afterAll(async () => {
    await parts?.close();
    await env?.teardown();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the stack starts before the tests of the file');
    return value;
  };
  return { env: () => started(env), parts: () => started(parts) };
}
