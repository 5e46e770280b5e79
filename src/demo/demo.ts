/**
 * `ado demo`: a whole task, offline, on the embedded default. Uses a running `ado dev` stack or
 * starts one, gives the example's demo pool a fresh copy of its sample repository, follows the
 * task phase by phase (and tool call by tool call for the agent coder) and ends with the pull
 * request, the iterations, the tokens and the Web UI link.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectClient, readStackInfo, type TemporalSettings } from '../client/connection';
import { newTaskId, TaskClient, type FollowEvent, type TaskOutcome } from '../client/task-client';
import { adoPaths } from '../config/paths';
import { temporalPlumbing, type TemporalPlumbing } from '../client/temporal-plumbing';
import type { TaskExecutionState } from '../domain/task';
import type { Logger } from '../telemetry/logger';
import { DEMO_POOLS, startEmbeddedStack, type DemoExampleName, type EmbeddedStack } from '../dev/stack';
import { DEMO_EXAMPLES } from './examples';

const run = promisify(execFile);

export interface DemoOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  hitl: boolean;
  /** Which example to run. @default 'signup' */
  example?: DemoExampleName;
  /** Ports for the embedded stack when none is running. */
  port: number;
  uiPort: number;
  say: (line: string) => void;
  /** Called on every phase change, tool call and approval request (live output). */
  onEvent?: (event: FollowEvent) => void;
}

export interface DemoResult {
  taskId: string;
  outcome: TaskOutcome;
  state: TaskExecutionState;
  repository: string;
  /** `git log --oneline` of the pull request's commits in the shared remote. */
  commits: string[];
  /** `git diff --stat` of the pull request. */
  diffStat: string;
  workflowUrl?: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { home, env, say } = options;
  const name = options.example ?? 'signup';
  const example = DEMO_EXAMPLES[name];
  const running = readStackInfo(env);
  let stack: EmbeddedStack | undefined;
  let settings: TemporalSettings;
  let uiUrl: string | undefined;
  let plumbing: TemporalPlumbing;
  if (running) {
    say(`Using the running ADO stack at ${running.address} (pid ${running.pid}).`);
    settings = { address: running.address, namespace: running.namespace, source: 'ado dev' };
    uiUrl = running.uiUrl;
    plumbing = temporalPlumbing(env, home);
  } else {
    say('No ADO stack is running: starting the embedded one (stopped again at the end).');
    stack = await startEmbeddedStack({
      home,
      env,
      logger: options.logger,
      port: options.port,
      uiPort: options.uiPort,
      apiPort: 0,
      namespace: 'default',
      say,
    });
    settings = stack.settings;
    uiUrl = stack.uiUrl;
    plumbing = stack.plumbing;
  }
  try {
    const taskId = newTaskId();
    const repository = await example.createRepository(path.join(adoPaths(home).home, 'demo', taskId));
    say(`Sample repository (example ${name}): ${repository}`);
    const client = await connectClient(settings, { dataConverter: plumbing.dataConverter, interceptors: plumbing.tracing?.clientInterceptors });
    try {
      const tasks = new TaskClient(client, DEMO_POOLS[name].queuePrefix);
      const { runId } = await tasks.start({ taskId, prompt: example.prompt, repository, branch: 'main', hitlEnabled: options.hitl, coder: example.coder });
      say(`Task ${taskId}${example.coder ? ` (${example.coder} coder)` : ''}: "${example.prompt}"`);
      const outcome = await tasks.follow(taskId, (event) => options.onEvent?.(event));
      const state = await tasks.state(taskId);
      const pr = state.pullRequest;
      const git = (args: string[]) => (state.remote ? run('git', args, { cwd: state.remote }).then((r) => r.stdout.trim()) : Promise.resolve(''));
      const range = pr ? `${state.baseSha}..${pr.headSha}` : '';
      return {
        taskId,
        outcome,
        state,
        repository,
        commits: range ? (await git(['log', '--oneline', range])).split('\n').filter(Boolean) : [],
        diffStat: range ? await git(['diff', '--stat', range]) : '',
        workflowUrl: uiUrl ? `${uiUrl}/namespaces/${settings.namespace}/workflows/${taskId}/${runId}/history` : undefined,
      };
    } finally {
      await client.connection.close();
    }
  } finally {
    await stack?.stop();
  }
}
