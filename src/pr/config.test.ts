import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { InMemoryPullRequests } from '../../test/fakes/in-memory-pull-requests';
import { createPullRequestProvider, prConfigFromEnv } from './config';
import { GitHubPullRequestProvider } from './github';
import { LocalPullRequestProvider } from './local';
import type { PullRequestRouter } from './routing';

function configError(env: Record<string, string>): AdoError {
  try {
    prConfigFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    return err as AdoError;
  }
  throw new Error('expected prConfigFromEnv to throw');
}

describe('prConfigFromEnv', () => {
  it('chooses by repository when unset, also for empty values, keeping a token for GitHub repositories', () => {
    expect(prConfigFromEnv({})).toEqual({ provider: 'auto', apiUrl: 'https://api.github.com' });
    expect(prConfigFromEnv({ ADO_PR_PROVIDER: '', GITHUB_TOKEN: '' })).toEqual({ provider: 'auto', apiUrl: 'https://api.github.com' });
    expect(prConfigFromEnv({ GITHUB_TOKEN: 't0k' })).toEqual({ provider: 'auto', apiUrl: 'https://api.github.com', token: 't0k' });
    expect(prConfigFromEnv({ ADO_PR_PROVIDER: 'local' })).toEqual({ provider: 'local', apiUrl: 'https://api.github.com' });
  });

  it('reads the github provider with its token and API URL', () => {
    expect(prConfigFromEnv({ ADO_PR_PROVIDER: 'github', GITHUB_TOKEN: 't0k' })).toEqual({ provider: 'github', token: 't0k', apiUrl: 'https://api.github.com' });
    expect(prConfigFromEnv({ ADO_PR_PROVIDER: 'github', GITHUB_TOKEN: 't0k', ADO_GITHUB_API_URL: 'https://ghe.example.com/api/v3' })).toMatchObject({
      apiUrl: 'https://ghe.example.com/api/v3',
    });
  });

  it('requires a token for github, with no default', () => {
    expect(configError({ ADO_PR_PROVIDER: 'github', GITHUB_TOKEN: '' }).message).toMatch(/^Invalid pull-request provider configuration: GITHUB_TOKEN: required when ADO_PR_PROVIDER=github/);
  });

  it('names the variable of an unknown provider or a bad URL', () => {
    expect(configError({ ADO_PR_PROVIDER: 'gitlab' }).message).toBe('Invalid pull-request provider configuration: ADO_PR_PROVIDER: expected "local" or "github"');
    expect(configError({ ADO_PR_PROVIDER: 'github', GITHUB_TOKEN: 't', ADO_GITHUB_API_URL: 'ftp://x' }).message).toBe(
      'Invalid pull-request provider configuration: ADO_GITHUB_API_URL: expected an http(s) URL such as https://api.github.com',
    );
  });
});

describe('createPullRequestProvider', () => {
  it('builds the provider the config names', () => {
    const store = new InMemoryPullRequests();
    expect(createPullRequestProvider({ provider: 'local', apiUrl: 'https://api.github.com' }, { store })).toBeInstanceOf(LocalPullRequestProvider);
    const github = createPullRequestProvider({ provider: 'github', token: 't', apiUrl: 'http://127.0.0.1:1' }, { store });
    expect(github).toBeInstanceOf(GitHubPullRequestProvider);
    expect(github.name).toBe('github');
  });

  it('without a switch, sends GitHub repositories to GitHub and the others to the local provider', () => {
    const store = new InMemoryPullRequests();
    const router = createPullRequestProvider({ provider: 'auto', token: 't', apiUrl: 'https://api.github.com' }, { store }) as PullRequestRouter;
    expect(router.providerFor('https://github.com/acme/app')).toBeInstanceOf(GitHubPullRequestProvider);
    expect(router.providerFor('git@github.com:acme/app.git')).toBeInstanceOf(GitHubPullRequestProvider);
    expect(router.providerFor('/home/me/app')).toBeInstanceOf(LocalPullRequestProvider);
    expect(router.providerFor('https://gitlab.com/acme/app')).toBeInstanceOf(LocalPullRequestProvider);
    const enterprise = createPullRequestProvider({ provider: 'auto', token: 't', apiUrl: 'https://ghe.example.com/api/v3' }, { store }) as PullRequestRouter;
    expect(enterprise.providerFor('https://ghe.example.com/team/app.git')).toBeInstanceOf(GitHubPullRequestProvider);
    expect(enterprise.providerFor('https://github.com/acme/app')).toBeInstanceOf(LocalPullRequestProvider);
  });

  it('refuses a GitHub repository when no token is configured, saying what to set', () => {
    const router = createPullRequestProvider({ provider: 'auto', apiUrl: 'https://api.github.com' }, { store: new InMemoryPullRequests() }) as PullRequestRouter;
    expect(() => router.providerFor('https://github.com/acme/private')).toThrow(expect.objectContaining({ type: FailureType.InvalidConfig, nonRetryable: true, message: expect.stringContaining('set GITHUB_TOKEN') }));
  });
});
