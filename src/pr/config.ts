/** Which pull-request provider a deployment uses, from its environment, and building it. */
import { z } from 'zod';
import { invalidConfig, optionalVar as optional, parseEnv } from '../config/env-schema';
import type { PullRequestRepository } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { DEFAULT_GITHUB_API_URL, GitHubPullRequestProvider } from './github';
import { LocalPullRequestProvider } from './local';
import type { PullRequestProvider } from './provider';

export type PrConfig = { provider: 'local' } | { provider: 'github'; token: string; apiUrl: string };

const prEnvSchema = z.object({
  ADO_PR_PROVIDER: optional(z.enum(['local', 'github'], { error: 'expected "local" or "github"' })),
  GITHUB_TOKEN: optional(z.string()),
  ADO_GITHUB_API_URL: optional(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.github.com' })),
});

const WHAT = 'pull-request provider';

/**
 * The provider settings in `env`: `ADO_PR_PROVIDER` (`local`, the default, or `github`),
 * `GITHUB_TOKEN` (required for github; no default) and `ADO_GITHUB_API_URL` (GitHub Enterprise).
 * Throws a non-retryable `InvalidConfig` error naming the variable at fault.
 */
export function prConfigFromEnv(env: Record<string, string | undefined> = process.env): PrConfig {
  const { ADO_PR_PROVIDER: provider = 'local', GITHUB_TOKEN: token, ADO_GITHUB_API_URL: apiUrl = DEFAULT_GITHUB_API_URL } = parseEnv(prEnvSchema, env, WHAT);
  if (provider === 'local') return { provider };
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

/** The provider `config` names. */
export function createPullRequestProvider(config: PrConfig, deps: PullRequestProviderDeps): PullRequestProvider {
  switch (config.provider) {
    case 'local':
      return new LocalPullRequestProvider({ store: deps.store, logger: deps.logger });
    case 'github':
      return new GitHubPullRequestProvider({ token: config.token, apiUrl: config.apiUrl, logger: deps.logger });
  }
}
