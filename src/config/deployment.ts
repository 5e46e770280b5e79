/**
 * Where one deployment of ADO keeps its shared files and how it names its task queues: what every
 * worker, CLI and API process of the deployment must agree on.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { optionalVar, parseEnv } from './env-schema';
import { adoPaths } from './paths';

export interface DeploymentConfig {
  /**
   * The shared bare git remotes (`ADO_GIT_REMOTES`): a folder every worker sees, or the http(s)
   * URL of a git server (`ado git-server`) so that workers share no disk.
   * @default `<ADO home>/git`
   */
  gitRemotes: string;
  /**
   * What git sends to the shared remotes' URL (`ADO_GIT_REMOTES_CREDENTIALS`): a token (bearer)
   * or `user:password` (basic). Given to git through its environment, never on a command line.
   * @default unset (no credentials)
   */
  gitRemotesCredentials?: string;
  /**
   * This process's bare caches of URL remotes (`ADO_GIT_CACHE`).
   * @default `<system temp>/ado-git-cache`
   */
  gitCache: string;
  /**
   * Where activities check out workspaces (`ADO_WORKSPACES`). Not under ADO home by default: the
   * sandbox user must be able to reach it, and homes are often 0700.
   * @default `<system temp>/ado-workspaces`
   */
  workspaces: string;
  /**
   * Prefix of the task queues (`ADO_TASK_QUEUE_PREFIX`): `<prefix>ado-tasks`, `…ado-code`, `…ado-review`.
   * @default '' (no prefix)
   */
  taskQueuePrefix: string;
  /**
   * A prebuilt workflow bundle to load (`ADO_WORKFLOW_BUNDLE`).
   * @default unset: `dist/workflow-bundle.js` when running compiled code, else bundled from the sources
   */
  workflowBundle?: string;
}

const deploymentEnvSchema = z.object({
  ADO_GIT_REMOTES: optionalVar(z.string()),
  ADO_GIT_REMOTES_CREDENTIALS: optionalVar(z.string().regex(/^\S+$/, 'must be one token, or user:password, without spaces')),
  ADO_GIT_CACHE: optionalVar(z.string()),
  ADO_WORKSPACES: optionalVar(z.string()),
  ADO_TASK_QUEUE_PREFIX: optionalVar(
    z.string().regex(/^[A-Za-z0-9._:/-]{1,100}$/, 'must be at most 100 letters, digits or ". _ : / -" (it starts every task queue name)'),
  ),
  ADO_WORKFLOW_BUNDLE: optionalVar(z.string()),
});

/**
 * Reads the deployment's settings from `env`, with folders resolved against `cwd` and the git
 * remotes under `home` (ADO home, see `adoHome`) by default. Throws a non-retryable
 * `InvalidConfig` error naming a bad variable.
 */
export function deploymentConfigFromEnv(env: NodeJS.ProcessEnv, home: string, cwd: string = process.cwd()): DeploymentConfig {
  const vars = parseEnv(deploymentEnvSchema, env, 'deployment');
  return {
    gitRemotes: !vars.ADO_GIT_REMOTES ? adoPaths(home).gitRemotes : /^https?:\/\//.test(vars.ADO_GIT_REMOTES) ? vars.ADO_GIT_REMOTES : path.resolve(cwd, vars.ADO_GIT_REMOTES),
    gitRemotesCredentials: vars.ADO_GIT_REMOTES_CREDENTIALS,
    gitCache: vars.ADO_GIT_CACHE ? path.resolve(cwd, vars.ADO_GIT_CACHE) : path.join(os.tmpdir(), 'ado-git-cache'),
    workspaces: vars.ADO_WORKSPACES ? path.resolve(cwd, vars.ADO_WORKSPACES) : path.join(os.tmpdir(), 'ado-workspaces'),
    taskQueuePrefix: vars.ADO_TASK_QUEUE_PREFIX ?? '',
    workflowBundle: vars.ADO_WORKFLOW_BUNDLE && path.resolve(cwd, vars.ADO_WORKFLOW_BUNDLE),
  };
}
