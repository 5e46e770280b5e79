/**
 * A task on a repository reached over SSH, as the container image runs it: the operator gives the
 * workers a key and the host's key (GIT_SSH_COMMAND, or ~/.ssh of the `ado` user), the real
 * OpenSSH client talks to a real SSH server, and git's own upload-pack serves the repository.
 * The task starts (the pre-flight reads the branch over SSH), imports, and completes; a host
 * whose key is unknown is refused before anything starts, saying what to configure.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { checkRepository } from '../../src/client/repository';
import { createLlmClient } from '../../src/llm/config';
import { LocalPullRequestProvider } from '../../src/pr/local';
import { createSandbox } from '../../src/sandbox';
import { silentLogger } from '../../src/telemetry/logger';
import { git } from '../../src/workspace/git';
import { GitRemotes } from '../../src/workspace/remotes';
import { WarmWorkspaces } from '../../src/workspace/warm';
import { SshGitServer } from '../fakes/ssh-git-server';
import { createRepository, openRealParts, type RealParts } from '../helpers/real-task';
import { startLocalEnv, withWorkers } from '../helpers/temporal';
import { startTask, stateOf, taskInput } from '../helpers/workflow';
import { startModelDouble, writeDirective, type ModelDouble } from '../topology/model-double';

let env: TestWorkflowEnvironment;
let parts: RealParts;
let model: ModelDouble;
let ssh: SshGitServer;
let baseSha: string;
const operatorSshCommand = process.env.GIT_SSH_COMMAND;

beforeAll(async () => {
  env = await startLocalEnv();
  parts = await openRealParts();
  model = await startModelDouble();
  const source = await createRepository(path.join(parts.work, 'source'), { 'README.md': '# app\n', '.ado.yml': 'gates:\n  test: "test -f notes/ssh.txt"\n' });
  baseSha = await git(['rev-parse', 'HEAD'], { cwd: source });
  const hosted = path.join(parts.work, 'ssh-host');
  await mkdir(hosted);
  await git(['clone', '--quiet', '--bare', source, path.join(hosted, 'app.git')]);
  ssh = new SshGitServer(hosted, await mkdtemp(path.join(os.tmpdir(), 'ado-ssh-keys-')));
  await ssh.start();
});
afterAll(async () => {
  restoreSshCommand();
  await ssh?.stop();
  await model?.close();
  await parts?.close();
  await env?.teardown();
});

function restoreSshCommand(): void {
  if (operatorSshCommand === undefined) delete process.env.GIT_SSH_COMMAND;
  else process.env.GIT_SSH_COMMAND = operatorSshCommand;
}

describe('a repository reached over SSH', () => {
  it('passes the pre-flight, imports over SSH with the operator key, and completes the task', async () => {
    process.env.GIT_SSH_COMMAND = ssh.sshCommand;
    const repository = ssh.urlOf('app.git');
    expect(await checkRepository(repository, '')).toMatchObject({ repository });

    const logger = silentLogger();
    const endpoint = { baseUrl: model.url, apiKey: '', model: 'model-double' };
    const activities = createActivities({
      logger,
      llm: createLlmClient({ provider: 'openai', endpoints: { planner: endpoint, coder: endpoint }, timeoutMs: 30_000, maxRetries: 0 }, { logger }),
      store: parts.store,
      notifiers: [],
      sandbox: createSandbox({ backend: 'bubblewrap', logger }),
      remotes: new GitRemotes({ root: path.join(parts.work, 'git'), logger }),
      scratchDir: path.join(parts.work, 'scratch'),
      workspaces: new WarmWorkspaces({ root: path.join(parts.work, 'scratch', 'warm'), logger }),
      pullRequests: new LocalPullRequestProvider({ store: parts.store.pullRequests, logger }),
    });
    await withWorkers(env, activities, async ({ queues }) => {
      const handle = await startTask(env.client, queues.task, taskInput({ repository, prompt: `Add a note. ${writeDirective('notes/ssh.txt')}`, maxIterations: 2 }));
      await handle.result();
      const state = await stateOf(handle);

      expect(state.phase).toBe('completed');
      expect(state.baseSha).toBe(baseSha);
      expect(state.pullRequest).toMatchObject({ provider: 'local', baseBranch: 'main', headBranch: `ado/${state.taskId}` });
    });
    // The repository came over SSH, through git's own upload-pack on the host.
    expect(ssh.commands).toContain("git-upload-pack '/app.git'");
  });

  it('refuses a host whose key the workers do not know before the task starts, saying what to configure', async () => {
    // The operator's key, but no known_hosts entry for this host: OpenSSH must not trust it blindly.
    process.env.GIT_SSH_COMMAND = ssh.sshCommand.replace(/UserKnownHostsFile=\S+/, 'UserKnownHostsFile=/dev/null');
    const served = ssh.commands.length;
    try {
      const err = await checkRepository(ssh.urlOf('app.git'), '').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toContain(`Cannot read repository ${ssh.urlOf('app.git')}`);
      expect(err?.message).toContain('Host key verification failed');
      expect(ssh.commands.length).toBe(served);
    } finally {
      restoreSshCommand();
    }
  });
});
