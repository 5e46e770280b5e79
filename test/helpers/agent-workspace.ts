/** A git working copy with files, and a tool context on it, for the agent's tool tests. */
import { afterAll, beforeAll } from 'vitest';
import type { ToolContext } from '../../src/agent/types';
import type { RepoConfig } from '../../src/gates/config';
import { createSandbox } from '../../src/sandbox';
import { createRepo, isolateGitConfig, removeDirs, tempDir } from './git-repos';

/** The repository config of a repository without gates, with `overrides`. */
export function repoConfig(overrides: Partial<RepoConfig> = {}): RepoConfig {
  return { source: 'none', gates: {}, limits: {}, packageScripts: {}, ...overrides };
}

/**
 * For a test file: a committed repository of `files` in a temp folder (git without user config),
 * and a context on it with the bubblewrap sandbox; removed after the file, with the folder
 * `<workspace>-outside` that escape tests may create. Returns the context's getter.
 */
export function useAgentWorkspace(files: Record<string, string>, config: RepoConfig = repoConfig()): () => ToolContext {
  let ctx: ToolContext | undefined;
  let configDir = '';
  beforeAll(async () => {
    configDir = await isolateGitConfig();
    const dir = await tempDir('agent-ws');
    await createRepo(dir, files);
    ctx = { workspaceDir: dir, sandbox: createSandbox({ backend: 'bubblewrap' }), repoConfig: config };
  });
  afterAll(() => removeDirs(configDir, ...(ctx ? [ctx.workspaceDir, `${ctx.workspaceDir}-outside`] : [])));
  return () => {
    if (!ctx) throw new Error('the agent workspace exists once the test file runs');
    return ctx;
  };
}
