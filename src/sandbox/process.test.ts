import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../telemetry/logger';
import { ALLOCATE_FOREVER, hostProcessesWith, tempWorkspace } from '../../test/sandbox/helpers';
import { createProcessSandbox } from './process';
import { supervise } from './supervise';
import { DEFAULT_SANDBOX_LIMITS } from './types';

const sandbox = createProcessSandbox();

describe('process sandbox', () => {
  it('warns on creation that nothing is isolated', () => {
    const lines = new PassThrough();
    let logged = '';
    lines.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    createProcessSandbox({ logger: createLogger({ destination: lines, pretty: false }) });
    expect(JSON.parse(logged)).toMatchObject({ level: 40, backend: 'process', msg: expect.stringContaining('NOTHING is isolated') });
  });

  it('runs the command in the workspace with the allowlisted environment and returns its exit code', async () => {
    process.env.ADO_PROCESS_TEST_HOST_VARIABLE = 'host-only';
    try {
      const workdir = await tempWorkspace({ 'a.txt': 'content\n' });
      const result = await sandbox.run({ command: 'cat a.txt; echo "$CI $TERM ${ADO_PROCESS_TEST_HOST_VARIABLE:-unset} $EXTRA"; exit 4', workdir, env: { EXTRA: 'x' } });
      expect(result).toMatchObject({ stopReason: 'exit', exitCode: 4, output: 'content\n1 dumb unset x\n' });
    } finally {
      delete process.env.ADO_PROCESS_TEST_HOST_VARIABLE;
    }
  });

  it('kills the whole process group at the wall-time limit', async () => {
    const workdir = await tempWorkspace();
    const marker = `4242.${Date.now() % 100000}`;
    const result = await sandbox.run({ command: `sleep ${marker} & sleep ${marker}`, workdir, limits: { wallTimeMs: 500 } });
    expect(result).toMatchObject({ stopReason: 'timeout', reason: 'killed: wall time 0.5 s exceeded' });
    expect(hostProcessesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it('ends background processes when the command exits', async () => {
    const workdir = await tempWorkspace();
    const marker = `4343.${Date.now() % 100000}`;
    const result = await sandbox.run({ command: `sleep ${marker} > /dev/null 2>&1 & echo done`, workdir });
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 0, output: 'done\n' });
    expect(hostProcessesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it('caps the output and stops on cancellation', async () => {
    const workdir = await tempWorkspace();
    const capped = await sandbox.run({ command: 'yes | head -c 300000', workdir, limits: { maxOutputBytes: 1000 } });
    expect(capped).toMatchObject({ truncated: true, stopReason: 'exit' });
    expect(capped.output.endsWith('[output truncated after 1000 bytes]\n')).toBe(true);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await sandbox.run({ command: 'touch should-not-exist', workdir }, { signal: controller.signal });
    expect(cancelled.stopReason).toBe('cancelled');
    expect(existsSync(`${workdir}/should-not-exist`)).toBe(false);
  });

  it('applies the memory limit through rlimits', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({
      command: ALLOCATE_FOREVER,
      workdir,
      limits: { memoryBytes: 256 * 1024 ** 2 },
    });
    expect(result.stopReason).toBe('memory');
  });

  it('returns when the command exits even if an escaped process keeps its output open', async () => {
    const workdir = await tempWorkspace();
    const marker = `4444.${Date.now() % 100000}`;
    onTestFinished(() => {
      for (const pid of hostProcessesWith(`sleep\0${marker}`)) process.kill(Number(pid), 'SIGKILL');
    });
    // setsid leaves the process group (the sleep gives it time to), so only the pipe grace period ends the wait.
    const result = await sandbox.run({ command: `setsid sleep ${marker} & sleep 0.3; echo left`, workdir });
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 0, output: 'left\n' });
  });
});

describe('supervise', () => {
  it('reports a command that cannot be started as a spawn error', async () => {
    const result = await supervise({ file: '/nonexistent/tool', args: [], env: {} }, DEFAULT_SANDBOX_LIMITS);
    expect(result).toMatchObject({ stopReason: 'spawn-error', exitCode: null, output: '' });
    expect(result.reason).toMatch(/could not start \/nonexistent\/tool: spawn \/nonexistent\/tool ENOENT/);
  });
});
