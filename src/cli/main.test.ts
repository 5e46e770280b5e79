import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestActivities } from '../../test/fakes/test-activities';
import { startLocalEnv, withWorkers } from '../../test/helpers/temporal';
import { pendingApproval, waitFor } from '../../test/helpers/workflow';
import { Client } from '@temporalio/client';
import { TaskClient } from '../client/task-client';
import { createDataConverter } from '../codec/data-converter';
import { generateKey, Keyring } from '../codec/keyring';
import { silentLogger } from '../telemetry/logger';
import { CliContext } from './context';
import { buildProgram, main } from './main';

let env: TestWorkflowEnvironment;
let address: string;
const repo = mkdtempSync(path.join(os.tmpdir(), 'ado-cli-repo-'));

beforeAll(async () => {
  execFileSync('git', ['init', '--quiet', repo]);
  // A task starts from a commit: the pre-flight refuses a repository without one.
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '--quiet', '--allow-empty', '-m', 'init'], { cwd: repo });
  env = await startLocalEnv();
  address = (env.connection.options as { address: string }).address;
});
afterAll(async () => {
  await env?.teardown();
});
afterEach(() => {
  process.exitCode = undefined;
  delete process.env.ADO_TASK_QUEUE_PREFIX;
});

/** Runs the CLI in process with `argv`; returns exit code and what it printed. */
async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => ((out[key] += chunk.toString()), true);
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(sink('stdout'));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(sink('stderr'));
  try {
    const code = await main(['node', 'ado', ...argv]);
    return { code, ...out };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

/** `ado <args>` against the test server. */
function ado(...args: string[]) {
  return capture(['--address', address, ...args]);
}

async function taskCount(): Promise<number> {
  let n = 0;
  for await (const _ of env.client.workflow.list({ query: "WorkflowType = 'taskExecutionWorkflow'" })) n++;
  return n;
}

describe('ado CLI: bad input gets one clear line, a non-zero exit, and changes nothing', () => {
  it('an empty prompt', async () => {
    const before = await taskCount();
    const r = await ado('run', '  ', '--repo', repo);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ado: prompt: the task prompt is empty');
    expect(await taskCount()).toBe(before);
  });

  it('no repository, and a repository that does not exist', async () => {
    const missing = await ado('run', 'do it');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '-r, --repo <path|url>' not specified");
    const nowhere = await ado('run', 'do it', '--repo', '/no/such/repo');
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr.trim()).toBe('ado: Repository /no/such/repo does not exist: pass --repo <path to a git repository | git URL>.');
  });

  it('an unknown task id', async () => {
    for (const command of [['status', 'no-such-task'], ['approve', 'no-such-task'], ['cancel', 'no-such-task']]) {
      const r = await ado(...command);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('ado: No task with id "no-such-task" in namespace "default". `ado list` shows the tasks.');
    }
  });

  it('a wrong checkpoint name', async () => {
    const r = await ado('approve', 'any', '--checkpoint', 'merge');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'merge' is invalid. Allowed choices are plan, stuck, pr, budget.");
  });

  it('a revise without a comment, or at a checkpoint other than pr, before reaching any task', async () => {
    const bare = await ado('reject', 'any', '--revise');
    expect(bare.code).not.toBe(0);
    expect(bare.stderr.trim()).toBe(
      'ado: Asking for changes (revise) needs a comment saying what to change; the model is given it in its next prompt. Add --comment "…".',
    );
    const atPlan = await ado('reject', 'any', '--revise', '--checkpoint', 'plan', '--comment', 'more tests');
    expect(atPlan.code).not.toBe(0);
    expect(atPlan.stderr).toContain('Only a pull request (checkpoint "pr") can be sent back for changes, not checkpoint "plan"');
  });

  it('an unreachable server', async () => {
    const r = await capture(['--address', '127.0.0.1:1', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ado: Cannot reach the Temporal server at 127\.0\.0\.1:1\. Start the embedded stack with `ado dev`/);
  });

  it('approving a task that waits for nothing, or at another checkpoint', async () => {
    const fake = createTestActivities({ delays: { generateCode: 60_000 } });
    await withWorkers(env, fake.activities, async ({ prefix }) => {
      process.env.ADO_TASK_QUEUE_PREFIX = prefix;
      const started = JSON.parse((await ado('run', 'Add validation', '--repo', repo, '--hitl', '--json')).stdout) as { taskId: string; workflowId: string };
      expect(started.workflowId).toBe(started.taskId);
      const handle = env.client.workflow.getHandle(started.taskId);
      await pendingApproval(handle, 'plan');

      const wrong = await ado('approve', started.taskId, '--checkpoint', 'pr');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.trim()).toBe(`ado: Task ${started.taskId} waits at checkpoint "plan", not "pr".`);

      expect((await ado('approve', started.taskId, '--checkpoint', 'plan')).code).toBe(0);
      await waitFor(async () => (fake.count('generateCode') > 0 ? true : undefined), 'coding');
      const nothing = await ado('approve', started.taskId);
      expect(nothing.code).toBe(1);
      expect(nothing.stderr.trim()).toBe(`ado: Task ${started.taskId} is not waiting for a decision (phase: coding).`);

      const status = JSON.parse((await ado('status', started.taskId, '--json')).stdout) as Record<string, unknown>;
      expect(status).toMatchObject({ phase: 'coding', attempts: 1, errors: [] });
      expect(status.approvals).toHaveLength(1);
      await handle.terminate('test done');
      // A terminated run takes no cancel either.
      const cancelled = await ado('cancel', started.taskId);
      expect(cancelled.code).toBe(1);
      expect(cancelled.stderr.trim()).toBe(`ado: Task ${started.taskId} has finished (status: TERMINATED, phase: coding); there is nothing to cancel.`);
    });
  });

  it('deciding on or cancelling a task that has completed', async () => {
    const fake = createTestActivities();
    const taskId = await withWorkers(env, fake.activities, async ({ prefix }) => {
      process.env.ADO_TASK_QUEUE_PREFIX = prefix;
      const started = JSON.parse((await ado('run', 'Add validation', '--repo', repo, '--json')).stdout) as { taskId: string };
      await env.client.workflow.getHandle(started.taskId).result();
      return started.taskId;
    });
    // No worker needed: the server's description of the run says how it ended.
    const ended = `Task ${taskId} has finished (status: COMPLETED, phase: completed)`;
    for (const command of [['approve', taskId], ['reject', taskId, '--signal']]) {
      const r = await ado(...command);
      expect(r.code, command.join(' ')).toBe(1);
      expect(r.stderr.trim()).toBe(`ado: ${ended}; there is nothing to decide.`);
    }
    const cancelled = await ado('cancel', taskId);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toBe('');
    expect(cancelled.stderr.trim()).toBe(`ado: ${ended}; there is nothing to cancel.`);
    const json = await ado('cancel', taskId, '--json');
    expect(JSON.parse(json.stdout)).toEqual({ error: { type: 'DecisionRejectedError', message: `${ended}; there is nothing to cancel.` } });
  });
});

describe('ado status without an answering worker', () => {
  it('says from the server that no worker is polling, and what to do', async () => {
    const taskId = `nobody-${Date.now()}`;
    // Started on a queue no worker polls.
    await new TaskClient(env.client, 'nobody-').start({ taskId, prompt: 'wait', repository: repo, branch: '', hitlEnabled: false });
    const r = await ado('status', taskId);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Task ${taskId}: planning (status RUNNING; from the server: no worker answered for the task)`);
    expect(r.stdout).toContain('problem:    No worker is polling task queue "nobody-ado-tasks": start one (`ado worker`');
    const json = JSON.parse((await ado('status', taskId, '--json')).stdout) as { status: string; problems: string[] };
    expect(json.status).toBe('RUNNING');
    expect(json.problems).toHaveLength(1);
  });

  it('names the key id when the task was encrypted with a key this client lacks', async () => {
    const taskId = `other-key-${Date.now()}`;
    const started = new Client({ connection: env.connection, dataConverter: createDataConverter(new Keyring([generateKey('team-b-key')])) });
    await new TaskClient(started, 'nobody-').start({ taskId, prompt: 'secret', repository: repo, branch: '', hitlEnabled: false });
    const mine = `k-mine:${generateKey('k-mine').key.toString('base64')}`;
    const saved = process.env.ADO_CODEC_KEYS;
    process.env.ADO_CODEC_KEYS = mine;
    try {
      const r = await ado('status', taskId);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/problem: .*encrypted with key "team-b-key"/);
    } finally {
      if (saved === undefined) delete process.env.ADO_CODEC_KEYS;
      else process.env.ADO_CODEC_KEYS = saved;
    }
  });

  it('cuts a long prompt and shows the plan while the task waits at plan', async () => {
    const fake = createTestActivities({ plan: '1. Read the code.\n2. Add the check.' });
    await withWorkers(env, fake.activities, async ({ prefix }) => {
      process.env.ADO_TASK_QUEUE_PREFIX = prefix;
      const started = JSON.parse((await ado('run', 'x'.repeat(5000), '--repo', repo, '--hitl', '--json')).stdout) as { taskId: string };
      const handle = env.client.workflow.getHandle(started.taskId);
      await pendingApproval(handle, 'plan');
      const r = await ado('status', started.taskId);
      expect(r.stdout).toContain(`prompt:     ${'x'.repeat(199)}… (5000 characters; --json has all)`);
      expect(r.stdout).toContain('  plan:\n    1. Read the code.\n    2. Add the check.');
      await handle.terminate('test done');
    });
  });
});

describe('ado CLI: following a task', () => {
  it('run --wait prints each phase and exits non-zero when the task fails', async () => {
    const fake = createTestActivities({ gateFailures: [1, 2].map((i) => [{ tool: 'lint', message: `rule ${'ab'[i - 1]} broken` }]) });
    await withWorkers(env, fake.activities, async ({ prefix }) => {
      process.env.ADO_TASK_QUEUE_PREFIX = prefix;
      const r = await ado('run', 'Add validation', '--repo', repo, '--max-iterations', '2', '--wait');
      expect(r.code).toBe(1);
      const phases = r.stdout.split('\n').flatMap((line) => /: (planning|decomposing|coding|testing|failed)\b/.exec(line)?.[1] ?? []);
      expect(phases).toEqual(['planning', 'decomposing', 'coding', 'testing', 'coding', 'testing', 'failed']);
      expect(r.stdout).toMatch(/failed: Quality gates failed after 2 iterations/);
    });
  });

  it('list shows tasks with their phase; --json too', async () => {
    const r = await ado('list', '--json');
    expect(r.code).toBe(0);
    const tasks = JSON.parse(r.stdout) as Array<{ taskId: string; phase?: string }>;
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.every((t) => typeof t.phase === 'string')).toBe(true);
  });
});

describe('ado CLI: server commands and the shared context', () => {
  /** Runs `fn` with the variables of `vars` set (undefined: unset), restoring them after. */
  async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
    const apply = (values: Record<string, string | undefined>) => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    apply(vars);
    try {
      return await fn();
    } finally {
      apply(saved);
    }
  }

  it('`ado dev --namespace` reaches dev (the global option), and its help says so', async () => {
    const ctx = new CliContext(() => program.opts(), silentLogger());
    const { program } = buildProgram(ctx);
    const help = await capture(['dev', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--namespace <name>\s+namespace to create and use/);
    expect(help.stdout).toMatch(/--port <n>\s+Temporal gRPC port \(default: 7233, env: ADO_TEMPORAL_PORT\)/);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(program.parseAsync(['node', 'ado', 'dev', '--namespace', 'team-a', '--help'])).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    } finally {
      write.mockRestore();
    }
    expect(ctx.globalOptions().namespace).toBe('team-a');
  });

  it('a bad port from a variable or a flag is refused, naming it', async () => {
    const fromEnv = await withEnv({ ADO_TEMPORAL_PORT: '72x3' }, () => capture(['dev']));
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain("option '--port <n>' value '72x3' from env 'ADO_TEMPORAL_PORT' is invalid. expected a port number (1-65535).");
    const uiFromEnv = await withEnv({ ADO_TEMPORAL_UI_PORT: '70000' }, () => capture(['demo']));
    expect(uiFromEnv.code).toBe(2);
    expect(uiFromEnv.stderr).toContain("from env 'ADO_TEMPORAL_UI_PORT' is invalid");
    const codecFromEnv = await withEnv({ ADO_CODEC_PORT: 'none' }, () => capture(['codec']));
    expect(codecFromEnv.code).toBe(2);
    expect(codecFromEnv.stderr).toContain("from env 'ADO_CODEC_PORT' is invalid. expected a port number (0-65535; 0 picks a free port).");
    const flag = await capture(['codec', '--port', '-1']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("option '--port <n>' argument '-1' is invalid");
  });

  it('`ado codec` without a key says how to configure one', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ado-cli-home-'));
    const r = await withEnv({ ADO_HOME: home, ADO_CODEC: undefined, ADO_CODEC_KEYS: undefined, ADO_CODEC_KEY_FILE: undefined }, () => capture(['codec', '--port', '0']));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `ado: \`ado codec\` needs the payload encryption key, but no key is configured: set ADO_CODEC_KEYS (e.g. "k1:$(openssl rand -base64 32)") or ADO_CODEC_KEY_FILE, or start \`ado dev\` once to create ${path.join(home, 'keys', 'codec-keys')}.`,
    );
  });

  it('`ado worker` against an address where nothing listens says so, exits non-zero and releases the store', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'ado-cli-home-'));
    const r = await withEnv({ ADO_HOME: home, ADO_DATABASE_URL: undefined, ADO_METRICS_PORT: undefined, ADO_LOG_LEVEL: 'silent' }, () =>
      capture(['--address', '127.0.0.1:1', 'worker']),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ado: Cannot reach the Temporal server at 127\.0\.0\.1:1\./);
    // The store it opened first is closed again: its data directory's lock is gone.
    expect(existsSync(path.join(home, 'store.lock'))).toBe(false);
  });

  it('makes the logger only when a command needs it, and resolves the settings once', async () => {
    let made = 0;
    const ctx = new CliContext(() => ({ address: '127.0.0.1:1' }), () => (made++, silentLogger()));
    const { program } = buildProgram(ctx);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(program.parseAsync(['node', 'ado', '--help'])).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    } finally {
      write.mockRestore();
    }
    expect(made).toBe(0);
    expect(ctx.logger).toBe(ctx.logger);
    expect(made).toBe(1);
    expect(ctx.settings()).toBe(ctx.settings());
    expect(ctx.settings().address).toBe('127.0.0.1:1');
  });
});
