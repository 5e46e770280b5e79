import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { deploymentConfigFromEnv } from './deployment';

describe('deploymentConfigFromEnv', () => {
  const home = '/var/lib/ado';
  const cwd = '/srv/ado';

  it('keeps the git remotes under ADO home and workspaces under the temp folder, with no queue prefix, when nothing is set', () => {
    expect(deploymentConfigFromEnv({ ADO_GIT_REMOTES: '', ADO_TASK_QUEUE_PREFIX: ' ' }, home, cwd)).toEqual({
      gitRemotes: '/var/lib/ado/git',
      gitRemotesCredentials: undefined,
      gitCache: path.join(os.tmpdir(), 'ado-git-cache'),
      workspaces: path.join(os.tmpdir(), 'ado-workspaces'),
      taskQueuePrefix: '',
      workflowBundle: undefined,
    });
  });

  it('resolves the folders it is given against the working directory', () => {
    const env = { ADO_GIT_REMOTES: '/mnt/shared/git', ADO_WORKSPACES: 'scratch', ADO_GIT_CACHE: 'cache', ADO_TASK_QUEUE_PREFIX: 'team-a/', ADO_WORKFLOW_BUNDLE: 'dist/bundle.js' };
    expect(deploymentConfigFromEnv(env, home, cwd)).toEqual({
      gitRemotes: '/mnt/shared/git',
      gitRemotesCredentials: undefined,
      gitCache: '/srv/ado/cache',
      workspaces: '/srv/ado/scratch',
      taskQueuePrefix: 'team-a/',
      workflowBundle: '/srv/ado/dist/bundle.js',
    });
  });

  it('keeps a git server URL as the remotes root, with its credentials', () => {
    const config = deploymentConfigFromEnv({ ADO_GIT_REMOTES: 'http://git.internal:8090/git', ADO_GIT_REMOTES_CREDENTIALS: 'tok123' }, home, cwd);
    expect(config).toMatchObject({ gitRemotes: 'http://git.internal:8090/git', gitRemotesCredentials: 'tok123' });
  });

  it('refuses credentials with spaces, naming the variable and not echoing them', () => {
    expect(() => deploymentConfigFromEnv({ ADO_GIT_REMOTES_CREDENTIALS: 'secret token' }, home, cwd)).toThrow(
      expect.objectContaining({ type: FailureType.InvalidConfig, message: expect.not.stringContaining('secret token') }),
    );
  });

  it('refuses a task queue prefix with spaces, naming the variable', () => {
    expect(() => deploymentConfigFromEnv({ ADO_TASK_QUEUE_PREFIX: 'team a' }, home, cwd)).toThrow(
      expect.objectContaining({ type: FailureType.InvalidConfig, nonRetryable: true, message: expect.stringContaining('ADO_TASK_QUEUE_PREFIX') }),
    );
  });
});
