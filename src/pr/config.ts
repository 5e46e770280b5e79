/** Which pull-request provider a deployment uses, from its environment, and building it. */
import { z } from 'zod';
import { invalidConfig, optionalVar as optional, parseEnv } from '../config/env-schema';
import type { PullRequestRepository } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { DEFAULT_GITHUB_API_URL, GitHubPullRequestProvider } from './github';
import { gitHubWebUrl } from './github-repository';
import { LocalPullRequestProvider } from './local';
import type { PullRequestProvider } from './provider';
import { PullRequestRouter } from './routing';

/**
 * `auto` (the default): tasks on a repository of the configured GitHub go to the GitHub provider,
 * the others to the local one. `local` and `github` send every task to that one.
 */
export type PrConfig = { provider: 'auto' | 'local'; token?: string; apiUrl: string } | { provider: 'github'; token: string; apiUrl: string };

const prEnvSchema = z.object({
  ADO_PR_PROVIDER: optional(z.enum(['local', 'github'], { error: 'expected "local" or "github"' })),
  GITHUB_TOKEN: optional(z.string()),
  ADO_GITHUB_API_URL: optional(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.github.com' })),
});

const WHAT = 'pull-request provider';

/**
 * The provider settings in `env`: `ADO_PR_PROVIDER` (unset: by repository; `local`; `github`),
 * `GITHUB_TOKEN` (required for github; no default) and `ADO_GITHUB_API_URL` (GitHub Enterprise).
 * Throws a non-retryable `InvalidConfig` error naming the variable at fault.
 */
export function prConfigFromEnv(env: Record<string, string | undefined> = process.env): PrConfig {
  const { ADO_PR_PROVIDER: provider = 'auto', GITHUB_TOKEN: token, ADO_GITHUB_API_URL: apiUrl = DEFAULT_GITHUB_API_URL } = parseEnv(prEnvSchema, env, WHAT);
  if (provider !== 'github') return { provider, apiUrl, ...(token === undefined ? {} : { token }) };
  if (token === undefined) {
    throw invalidConfig(WHAT, 'GITHUB_TOKEN: required when ADO_PR_PROVIDER=github (a token with contents:write and pull_requests:write on the repositories)');
  }
  return { provider, token, apiUrl };
}

export interface PullRequestProviderDeps {
  /** Where local pull requests are recorded. */
  store: PullRequestRepository;
  logger?: Logger;
}

/** The provider `config` names: for `auto`, one that picks by each task's repository. */
export function createPullRequestProvider(config: PrConfig, deps: PullRequestProviderDeps): PullRequestProvider {
  const local = new LocalPullRequestProvider({ store: deps.store, logger: deps.logger });
  const github = config.token === undefined ? undefined : new GitHubPullRequestProvider({ token: config.token, apiUrl: config.apiUrl, logger: deps.logger });
  if (config.provider === 'local') return local;
  if (config.provider === 'github' && github) return github;
  return new PullRequestRouter({ local, github, gitHubWebUrl: gitHubWebUrl(config.apiUrl) });
}
