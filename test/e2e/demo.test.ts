/**
 * The README's demo, end to end on the embedded stack: real Temporal dev server, PGlite store,
 * bubblewrap sandbox, git remotes, the scripted model replaying each example's transcript.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoResult } from '../../src/demo/demo';
import { LEDGER_TARGET } from '../../src/demo/ledger-repository';
import { startEmbeddedStack, type DemoExampleName, type EmbeddedStack } from '../../src/dev/stack';
import type { FollowEvent } from '../../src/client/task-client';
import { readRequestLog } from '../../src/llm/scripted';
import { createSandbox } from '../../src/sandbox';
import { silentLogger } from '../../src/telemetry/logger';
import { freePort } from '../../src/temporal/ports';
import { installTestRuntime } from '../helpers/temporal';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const home = mkdtempSync(path.join(os.tmpdir(), 'ado-e2e-'));
const env = { ...process.env, ADO_HOME: home, ADO_API_PORT: '0' };
let stack: EmbeddedStack;

beforeAll(async () => {
  installTestRuntime();
  stack = await startEmbeddedStack({ home, env, logger: silentLogger(), port: await freePort(), uiPort: false, namespace: 'default' });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The ado CLI as a user runs it, in another process, finding the stack through ADO home. */
function ado(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env });
}

function demo(hitl: boolean, onPending?: (taskId: string, checkpoint: string) => void, example?: DemoExampleName, onEvent?: (event: FollowEvent) => void): Promise<DemoResult> {
  return runDemo({
    home,
    env,
    logger: silentLogger(),
    hitl,
    example,
    port: 0,
    uiPort: 0,
    say: () => {},
    onEvent: (event) => {
      onEvent?.(event);
      if (event.type === 'approval') onPending?.(event.state.taskId, event.request.checkpoint);
    },
  });
}

function gitIn(remote: string, ...args: string[]): Promise<string> {
  return run('git', args, { cwd: remote }).then((r) => r.stdout);
}

describe('the demo task', () => {
  it('completes in two iterations: the first fails a test, the second passes; the PR is in the local remote', async () => {
    const result = await demo(false);
    expect(result.outcome).toMatchObject({ ok: true, phase: 'completed' });
    const { state } = result;
    expect(state.attempts).toBe(2);
    expect(state.errors).toHaveLength(1);
    expect(state.errors[0]).toMatchObject({ iteration: 1, tool: 'test', exitCode: 1 });
    expect(state.errors[0]?.message).toContain('rejects a password shorter than 8 characters');

    const pr = state.pullRequest!;
    expect(pr.merged).toBe(false);
    expect(pr.stats).toMatchObject({ commits: 2, filesChanged: 2 });
    const remote = state.remote!;
    expect((await gitIn(remote, 'rev-parse', `refs/heads/${pr.headBranch}`)).trim()).toBe(pr.headSha);
    const diff = await gitIn(remote, 'diff', `${state.baseSha}..${pr.headSha}`);
    expect(diff).toContain('+++ b/test/signup.test.js');
    expect(diff).toContain("+test('rejects a password shorter than 8 characters'");
    expect(diff).toContain('+  if (typeof password !== \'string\' || password.length < 8) {');
    expect(result.commits).toHaveLength(2);

    // The failing gate's structured message reached the second code prompt, in its failures section.
    const requests = (await readRequestLog(stack.demoRequestLog)).filter((r) => r.taskId === result.taskId && r.purpose === 'code');
    expect(requests.map((r) => r.iteration)).toEqual([1, 2]);
    const prompt = requests[1]!.messages.at(-1)!.content;
    const failures = prompt.slice(prompt.indexOf('## Failures of iteration 1'), prompt.indexOf('## Files'));
    expect(failures).toContain('### test (exit code 1)');
    expect(failures).toContain('rejects a password shorter than 8 characters');
    expect(state.usage.totalTokens).toBeGreaterThan(0);
  });

  it('with HITL, pauses at plan and PR and goes on when approved through the CLI; the approved PR is merged', async () => {
    const approvals: Promise<unknown>[] = [];
    const seen: string[] = [];
    const result = await demo(true, (taskId, checkpoint) => {
      seen.push(checkpoint);
      approvals.push(ado('approve', taskId, '--checkpoint', checkpoint, '--reviewer', 'e2e', '--comment', `ok ${checkpoint}`));
    });
    await Promise.all(approvals);
    expect(result.outcome.ok).toBe(true);
    expect(seen).toEqual(['plan', 'pr']);
    const { state } = result;
    expect(state.approvals.map((a) => [a.request.checkpoint, a.decision.reviewer, a.decision.channel])).toEqual([
      ['plan', 'e2e', 'cli'],
      ['pr', 'e2e', 'cli'],
    ]);
    expect(state.pullRequest?.merged).toBe(true);
    const remote = state.remote!;
    // The merge is on the base branch of the shared remote, with the new test file.
    expect(await gitIn(remote, 'show', `${state.baseBranch}:test/signup.test.js`)).toContain('rejects a password shorter than 8 characters');

    const status = JSON.parse((await ado('status', result.taskId, '--json')).stdout) as { phase: string; attempts: number };
    expect(status).toMatchObject({ phase: 'completed', attempts: 2 });
  });

  it('the ledger example: the agent coder finds the refund bug in 593 files, edits, runs the test and finishes; the PR fixes it and the gates passed', async () => {
    const followed: string[] = [];
    const result = await demo(false, undefined, 'ledger', (event) => {
      if (event.type === 'step') followed.push(`${event.step.tool} ${event.step.outcome}`);
    });
    expect(result.outcome).toMatchObject({ ok: true, phase: 'completed' });
    const { state } = result;
    // The tool calls, as the demo printed them while they happened.
    const tools = ['search ok', 'view ok', 'view ok', 'str_replace ok', 'run error', 'str_replace error', 'str_replace ok', 'run ok', 'finish ok'];
    expect(followed).toEqual(tools);
    expect(state.session?.steps.map((s) => `${s.tool} ${s.outcome}`)).toEqual(tools);
    // finish ran the gates, the task's own check after the session passed them too: no failure, the PR head is green.
    expect(state.attempts).toBe(1);
    expect(state.errors).toEqual([]);
    const pr = state.pullRequest!;
    expect(state.greenSha).toBe(pr.headSha);

    // What the model was told: where the name occurs, the failing test, the edit that did not match.
    const turns = (await readRequestLog(stack.demoRequestLog)).filter((r) => r.taskId === result.taskId && r.purpose === 'agent');
    expect(turns[0]!.messages.find((m) => m.role === 'user')!.content).not.toContain('format-amount');
    const observations = turns.at(-1)!.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(observations[0]).toContain(LEDGER_TARGET.module);
    expect(observations[4]).toContain('€-13.-34');
    expect(observations[5]).toMatch(/^No replacement: old_str was not found in packages\/billing\/src\/money\/format-amount\.js/);

    const remote = state.remote!;
    const diff = await gitIn(remote, 'diff', `${state.baseSha}..${pr.headSha}`);
    expect(diff).toContain("+  const sign = minor < 0 ? '-' : '';");
    expect(diff).toContain("+assert.equal(formatAmount(-1234, 'EUR'), '-€12.34');");
    expect(result.diffStat).toContain('2 files changed');

    // The repository's own test, in the sandbox: at the base commit with the PR's new test it
    // fails on the bug; at the PR's head it passes.
    // (A folder the sandbox user may traverse, as ADO's own workspaces are.)
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'ado-ledger-check-'));
    try {
      chmodSync(scratch, 0o755);
      const tree = path.join(scratch, 'ledger');
      await run('git', ['clone', '--quiet', remote, tree]);
      const repoTest = () => createSandbox({ backend: 'bubblewrap' }).run({ command: 'node scripts/run-tests.js', workdir: tree });
      await run('git', ['checkout', '--quiet', state.baseSha!], { cwd: tree });
      await run('git', ['checkout', pr.headSha, '--', LEDGER_TARGET.test], { cwd: tree });
      const before = await repoTest();
      expect(before.exitCode).toBe(1);
      expect(before.output).toContain(`FAIL ${LEDGER_TARGET.test}`);
      await run('git', ['checkout', '--quiet', pr.headSha, '--', '.'], { cwd: tree });
      const after = await repoTest();
      expect(after.output).toContain('0 failed');
      expect(after.exitCode).toBe(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
