/**
 * The one place where ADO's parts are built from configuration and handed to the activities:
 * store, LLM, sandbox, shared git remotes, pull-request provider, notifiers.
 */
import path from 'node:path';
import { createActivities } from '../activities';
import type { AdoActivities } from '../activities/interfaces';
import { deploymentConfigFromEnv, type DeploymentConfig } from '../config/deployment';
import { AdoError } from '../domain/errors';
import { createLlmClient, describeLlmConfig, llmConfigFromEnv, type LlmConfig } from '../llm/config';
import type { LlmClient } from '../llm/types';
import { ConsoleNotifier } from '../notifications/console';
import { createNotifiers, notificationConfigFromEnv } from '../notifications/config';
import type { Notifier } from '../notifications/notifier';
import { createPullRequestProvider, prConfigFromEnv, type PrConfig } from '../pr/config';
import { gitHubAuthorization } from '../pr/github';
import { gitHubWebUrl } from '../pr/github-repository';
import { createSandbox, sandboxConfigFromEnv } from '../sandbox';
import type { Sandbox } from '../sandbox/types';
import { agentConfigFromEnv } from '../agent/config';
import { openStore, storeConfigFromEnv } from '../store';
import type { AdoStore } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { GitRemotes } from '../workspace/remotes';
import { authorizationHeader, configureSharedRemotes } from '../workspace/shared-remote';
import { WarmWorkspaces } from '../workspace/warm';

/** The parts every pool of one process shares. */
export interface SharedParts {
  store: AdoStore;
  sandbox: Sandbox;
  remotes: GitRemotes;
  scratchDir: string;
  /** This process's warm task workspaces (swept of those left by gone workers when opened). */
  workspaces: WarmWorkspaces;
  notifiers: Notifier[];
  logger: Logger;
}

/** Opens the store and builds the sandbox, remotes and notifiers from `env`; close the store when done. */
export async function openSharedParts(options: { env: NodeJS.ProcessEnv; home: string; logger: Logger; cwd?: string }): Promise<SharedParts> {
  const { env, home, logger } = options;
  const deployment = deploymentConfigFromEnv(env, home, options.cwd);
  useGitCredentials(deployment, prConfigFromEnv(env));
  const sandbox = createSandbox({ ...sandboxConfigFromEnv(env), logger });
  const store = await openStore({ ...storeConfigFromEnv(env, options.cwd), logger });
  const workspaces = new WarmWorkspaces({ root: path.join(deployment.workspaces, 'warm'), logger });
  await workspaces.sweep();
  return {
    store,
    sandbox,
    remotes: new GitRemotes({ root: deployment.gitRemotes, logger }),
    scratchDir: deployment.workspaces,
    workspaces,
    notifiers: [new ConsoleNotifier(logger), ...createNotifiers(notificationConfigFromEnv(env), { logger })],
    logger,
  };
}

/** Every activity, with `llm` as the model; the rest from `parts` and `env`. */
export function wireActivities(parts: SharedParts, llm: LlmClient, env: NodeJS.ProcessEnv): AdoActivities {
  const pullRequests = createPullRequestProvider(prConfigFromEnv(env), { store: parts.store.pullRequests, logger: parts.logger });
  return createActivities({ ...parts, llm, pullRequests, agent: agentConfigFromEnv(env) });
}

/**
 * The LLM client `env` configures. When the configuration is missing or wrong the worker still
 * starts (tasks can be watched and decided), and each LLM call fails at once, non-retryably,
 * with the configuration error that says what to set.
 */
export function llmFromEnv(env: NodeJS.ProcessEnv, logger: Logger): { llm: LlmClient; description: string; problem?: string } {
  let config: LlmConfig;
  try {
    config = llmConfigFromEnv(env);
  } catch (err) {
    if (!(err instanceof AdoError)) throw err;
    return { llm: { chat: () => Promise.reject(err), unusable: err }, description: 'not configured', problem: err.message };
  }
  return { llm: createLlmClient(config, { logger }), description: describeLlmConfig(config) };
}

/**
 * Gives this process's git calls the shared remotes' cache folder and credentials, and the GitHub
 * token for repositories on GitHub (private ones import with it). Each header is scoped to its
 * URL, so neither goes to another host.
 */
export function useGitCredentials(deployment: DeploymentConfig, pr: PrConfig): void {
  const url = /^https?:\/\//.test(deployment.gitRemotes) ? deployment.gitRemotes.replace(/\/*$/, '/') : undefined;
  const credentials = [
    ...(url && deployment.gitRemotesCredentials ? [{ urlPrefix: url, header: authorizationHeader(deployment.gitRemotesCredentials) }] : []),
    ...(pr.token === undefined ? [] : [{ urlPrefix: gitHubWebUrl(pr.apiUrl), header: gitHubAuthorization(pr.token) }]),
  ];
  configureSharedRemotes({ cacheRoot: deployment.gitCache, credentials });
}
