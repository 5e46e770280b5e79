import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { InMemoryPullRequests } from '../../test/fakes/in-memory-pull-requests';
import { createPullRequestProvider, prConfigFromEnv } from './config';
import { GitHubPullRequestProvider } from './github';
import { LocalPullRequestProvider } from './local';

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
  it('defaults to the local provider, also for empty values', () => {
    expect(prConfigFromEnv({})).toEqual({ provider: 'local' });
    expect(prConfigFromEnv({ ADO_PR_PROVIDER: '', GITHUB_TOKEN: '' })).toEqual({ provider: 'local' });
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
    expect(createPullRequestProvider({ provider: 'local' }, { store })).toBeInstanceOf(LocalPullRequestProvider);
    const github = createPullRequestProvider({ provider: 'github', token: 't', apiUrl: 'http://127.0.0.1:1' }, { store });
    expect(github).toBeInstanceOf(GitHubPullRequestProvider);
    expect(github.name).toBe('github');
  });
});
