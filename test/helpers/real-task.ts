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
import YAML from 'yaml';
import { agentConfigFromEnv, type AgentConfig } from '../../src/agent/config';
import { createActivities } from '../../src/activities';
import type { AdoActivities } from '../../src/activities/interfaces';
import { ScriptedLlmClient } from '../../src/llm/scripted';
import type { Transcript } from '../../src/llm/transcript';
import type { LlmClient } from '../../src/llm/types';
import { LocalPullRequestProvider } from '../../src/pr/local';
import { createSandbox, type CreateSandboxOptions } from '../../src/sandbox';
import type { Sandbox, SandboxRunResult, SandboxRunSpec } from '../../src/sandbox/types';
import { openStore } from '../../src/store/open-store';
import type { AdoStore } from '../../src/store/types';
import { silentLogger } from '../../src/telemetry/logger';
import { git, identityEnv } from '../../src/workspace/git';
import { GitRemotes } from '../../src/workspace/remotes';
import { WarmWorkspaces } from '../../src/workspace/warm';
import { freshStoreLocation, type FreshStoreLocation } from './postgres';

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

/** A transcript for the agent coder: one session of one turn per entry, each a list of tool calls. */
export function agentTranscript(turns: { name: string; arguments: unknown }[][]): Transcript {
  return { ...transcript([]), agent: [turns.map((calls) => ({ tool_calls: calls }))] };
}

/**
 * Sees each command the sandbox is given as it starts (to count them from outside the
 * activities); a function it returns is called with the run's result and wall time.
 */
export type SandboxObserver = (spec: SandboxRunSpec) => void | ((result: SandboxRunResult, ms: number) => void);

/**
 * The real activities, with `answers` as the model (a transcript the scripted client replays, or
 * a client of its own) and a sandbox built from `sandbox`, watched by `onRun`.
 */
export async function realActivities(
  parts: RealParts,
  name: string,
  answers: Transcript | LlmClient,
  sandbox: CreateSandboxOptions = {},
  onRun?: SandboxObserver,
  agent: Partial<AgentConfig> = {},
): Promise<AdoActivities> {
  let llm: LlmClient;
  if ('chat' in answers) llm = answers;
  else {
    const transcriptPath = path.join(parts.work, `${name}.transcript.yaml`);
    await writeFile(transcriptPath, YAML.stringify(answers));
    llm = new ScriptedLlmClient({ transcriptPath });
  }
  const scratchDir = path.join(parts.work, 'scratch');
  await mkdir(scratchDir, { recursive: true, mode: 0o755 });
  const logger = silentLogger();
  return createActivities({
    logger,
    llm,
    store: parts.store,
    notifiers: [],
    sandbox: observed(createSandbox({ backend: 'bubblewrap', logger, ...sandbox }), onRun),
    remotes: new GitRemotes({ root: path.join(parts.work, 'git'), logger }),
    scratchDir,
    workspaces: new WarmWorkspaces({ root: path.join(scratchDir, 'warm'), logger }),
    pullRequests: new LocalPullRequestProvider({ store: parts.store.pullRequests, logger }),
    agent: { ...agentConfigFromEnv({ ADO_CODER_MODE: 'agent' }), ...agent },
  });
}

function observed(sandbox: Sandbox, onRun: SandboxObserver | undefined): Sandbox {
  if (!onRun) return sandbox;
  return {
    backend: sandbox.backend,
    runsAsOtherUser: sandbox.runsAsOtherUser,
    overlays: async (workdir) => (await sandbox.overlays?.(workdir)) ?? false,
    run: async (spec, options) => {
      const finished = onRun(spec);
      const started = performance.now();
      const result = await sandbox.run(spec, options);
      finished?.(result, performance.now() - started);
      return result;
    },
  };
}
