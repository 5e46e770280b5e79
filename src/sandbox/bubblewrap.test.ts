import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdoError } from '../domain/errors';
import { gvisorAvailable, tempWorkspace } from '../../test/sandbox/helpers';
import { createBubblewrapSandbox } from './bubblewrap';
import { createSandbox, type SandboxBackend } from './index';
import { withOverlayFolders } from './overlay';

const isRoot = process.getuid?.() === 0;
/** The contract every isolating backend keeps; gVisor's half runs where runsc is (`.ci/run` builds it). */
const BACKENDS: SandboxBackend[] = gvisorAvailable() ? ['bubblewrap', 'gvisor'] : ['bubblewrap'];

describe.each(BACKENDS)('%s sandbox', (backend) => {
  const sandbox = createSandbox({ backend });

  it('runs a command in the workspace and returns its exit code', async () => {
    const workdir = await tempWorkspace({ 'hello.txt': 'hello from the workspace\n' });
    const ok = await sandbox.run({ command: 'pwd; cat hello.txt', workdir });
    expect(ok).toMatchObject({ stopReason: 'exit', exitCode: 0, signal: null, reason: 'exited with code 0', truncated: false });
    expect(ok.output).toBe('/workspace\nhello from the workspace\n');
    const failed = await sandbox.run({ command: 'echo broken >&2; exit 7', workdir });
    expect(failed).toMatchObject({ stopReason: 'exit', exitCode: 7, reason: 'exited with code 7', output: 'broken\n' });
  });

  it('lets the command write the workspace and gives it back to its owner afterwards', async () => {
    const workdir = await tempWorkspace({ 'src/index.js': 'old\n' });
    const owner = await stat(workdir);
    const result = await sandbox.run({ command: 'mkdir -p dist && echo built > dist/out.txt && echo new > src/index.js', workdir });
    expect(result.stopReason).toBe('exit');
    expect(result.exitCode).toBe(0);
    expect(await readFile(path.join(workdir, 'dist/out.txt'), 'utf8')).toBe('built\n');
    expect(await readFile(path.join(workdir, 'src/index.js'), 'utf8')).toBe('new\n');
    for (const file of ['dist', 'dist/out.txt', 'src/index.js']) {
      const info = await stat(path.join(workdir, file));
      expect({ file, uid: info.uid, gid: info.gid }).toEqual({ file, uid: owner.uid, gid: owner.gid });
    }
  });

  it('follows a workdir given through a symlink to the folder it names', async () => {
    const outer = await tempWorkspace({ 'real/input.txt': 'through the link\n' });
    await chmod(outer, 0o755); // the sandbox user must be able to pass through it
    const owner = await stat(path.join(outer, 'real'));
    await symlink(path.join(outer, 'real'), path.join(outer, 'link'));
    const result = await sandbox.run({ command: 'cat input.txt > output.txt', workdir: path.join(outer, 'link') });
    expect(result.exitCode).toBe(0);
    expect(await readFile(path.join(outer, 'real/output.txt'), 'utf8')).toBe('through the link\n');
    const info = await stat(path.join(outer, 'real/output.txt'));
    expect([info.uid, info.gid]).toEqual([owner.uid, owner.gid]);
  });

  it.runIf(isRoot)('runs commands as an unprivileged user when the worker is root', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({ command: 'id -u; grep CapEff /proc/self/status', workdir });
    expect(result.output).toMatch(/^65534\nCapEff:\s+0+\n$/);
  });

  it('runs node and npm scripts with the default limits', async () => {
    const workdir = await tempWorkspace({
      'package.json': JSON.stringify({ name: 'demo', version: '1.0.0', scripts: { test: 'node --test' } }),
      'test/sum.test.js': "const test = require('node:test'); const assert = require('node:assert'); test('sums', () => assert.strictEqual(1 + 2, 3));\n",
    });
    const version = await sandbox.run({ command: 'node -e "console.log(process.version)"', workdir });
    expect(version.output).toBe(`${process.version}\n`);
    const npmTest = await sandbox.run({ command: 'npm test', workdir });
    expect(npmTest.output).toMatch(/# pass 1/);
    expect(npmTest).toMatchObject({ stopReason: 'exit', exitCode: 0 });
  });

  it('clears the environment to the allowlist plus the variables the run asks for', async () => {
    process.env.ADO_SANDBOX_TEST_HOST_VARIABLE = 'host-only';
    try {
      const workdir = await tempWorkspace();
      const result = await sandbox.run({ command: 'env | sort', workdir, env: { GREETING: 'hi there', PATH: '/workspace/bin:/usr/bin:/bin' } });
      const env = Object.fromEntries(
        result.output
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      expect(env).toEqual({
        CI: '1',
        GREETING: 'hi there',
        HOME: '/tmp',
        LANG: 'C.UTF-8',
        PATH: '/workspace/bin:/usr/bin:/bin',
        PWD: '/workspace',
        TERM: 'dumb',
      });
    } finally {
      delete process.env.ADO_SANDBOX_TEST_HOST_VARIABLE;
    }
  });

  it('with network, runs the command behind the egress proxy and keeps its exit code and its CPU-limit signal', async () => {
    const workdir = await tempWorkspace();
    const result = await sandbox.run({ command: 'echo "$HTTPS_PROXY $NO_PROXY"; exit 7', workdir, network: true });
    expect(result).toMatchObject({ stopReason: 'exit', exitCode: 7, output: 'http://127.0.0.1:3128 localhost,127.0.0.1,::1\n' });
    const cpu = await sandbox.run({ command: 'while :; do :; done', workdir, network: true, limits: { cpuTimeSec: 1 } });
    expect(cpu).toMatchObject({ stopReason: 'cpu', signal: 'SIGXCPU' });
  });

  it('without network, servers inside can still use the sandbox loopback', async () => {
    const workdir = await tempWorkspace();
    const js =
      "const net = require('net'); const s = net.createServer((c) => c.end('pong')).listen(0, '127.0.0.1', () => " +
      "net.connect(s.address().port, '127.0.0.1').on('data', (d) => { console.log(String(d)); process.exit(0); }));";
    const result = await sandbox.run({ command: `node -e "${js}"`, workdir });
    expect(result.output).toBe('pong\n');
  });

  it('stops the run when the caller aborts', async () => {
    const workdir = await tempWorkspace();
    const controller = new AbortController();
    const running = sandbox.run({ command: 'echo started; sleep 30', workdir }, { signal: controller.signal, onProgress: () => controller.abort() });
    const result = await running;
    expect(result).toMatchObject({ stopReason: 'cancelled', reason: 'killed: the run was cancelled' });
    expect(result.output).toBe('started\n');
  });

  it('reports progress while the command runs', async () => {
    const workdir = await tempWorkspace();
    let calls = 0;
    await sandbox.run({ command: 'sleep 1.5', workdir }, { onProgress: () => (calls += 1) });
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it('lets runs share a workspace at the same time and gives it back after the last', async () => {
    const workdir = await tempWorkspace();
    const owner = await stat(workdir);
    const results = await Promise.all(
      ['a', 'b', 'c'].map((name) => sandbox.run({ command: `echo ${name} > ${name}.txt && sleep 0.3 && cat ${name}.txt`, workdir })),
    );
    expect(results.map((result) => result.output)).toEqual(['a\n', 'b\n', 'c\n']);
    const info = await stat(path.join(workdir, 'b.txt'));
    expect([info.uid, info.gid]).toEqual([owner.uid, owner.gid]);
  });

  it('rejects a missing workspace and invalid limits with errors saying what to fix', async () => {
    const workdir = await tempWorkspace();
    await expect(sandbox.run({ command: 'true', workdir: path.join(workdir, 'missing') })).rejects.toThrow(/does not exist/);
    await expect(sandbox.run({ command: 'true', workdir: 'relative/path' })).rejects.toThrow(/absolute path/);
    await expect(sandbox.run({ command: '  ', workdir })).rejects.toThrow(/command is empty/);
    const badLimit = sandbox.run({ command: 'true', workdir, limits: { wallTimeMs: -1 } });
    await expect(badLimit).rejects.toThrow(/wallTimeMs must be a positive whole number/);
    await expect(badLimit).rejects.toMatchObject({ nonRetryable: true, type: 'InvalidInput' });
    await expect(sandbox.run({ command: 'true', workdir, env: { 'BAD-NAME': 'x' } })).rejects.toBeInstanceOf(AdoError);
  });

  it.runIf(isRoot)('explains when the sandbox user cannot reach the workspace', async () => {
    const outer = await tempWorkspace();
    const workdir = path.join(outer, 'private', 'repo');
    await mkdir(workdir, { recursive: true });
    await chmod(path.join(outer, 'private'), 0o700);
    await writeFile(path.join(workdir, 'f'), 'x');
    await expect(sandbox.run({ command: 'cat f', workdir })).rejects.toThrow(/cannot reach the workspace .* is not searchable/);
  });
});

describe('createSandbox with bubblewrap', () => {
  it('fails with a clear error when bwrap is not installed', () => {
    expect(() => createBubblewrapSandbox({ path: '/nonexistent' })).toThrow(/bwrap was not found on PATH: install bubblewrap .* process backend explicitly/);
  });

  it('explains on the first run when bwrap cannot create namespaces on this host', async () => {
    // A stand-in bwrap that fails the way bwrap does where user namespaces are disabled.
    const fakeBin = await tempWorkspace({ bwrap: "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n" });
    await chmod(fakeBin, 0o755);
    await chmod(path.join(fakeBin, 'bwrap'), 0o755);
    const workdir = await tempWorkspace();
    const broken = createBubblewrapSandbox({ path: `${fakeBin}:/usr/bin:/bin` });
    const run = broken.run({ command: 'true', workdir });
    await expect(run).rejects.toThrow(/cannot create its namespaces on this host \(bwrap: setting up uid map: Permission denied\)\. Enable unprivileged user namespaces/);
    await expect(run).rejects.toMatchObject({ type: 'InvalidConfig', nonRetryable: true });
  });

  it.runIf(isRoot)('refuses to run sandboxes as root', () => {
    expect(() => createSandbox({ user: { uid: 0, gid: 0 } })).toThrow(/must not run as root/);
  });
});

describe.runIf(isRoot)('bubblewrap sandbox on an overlay view', () => {
  const sandbox = createBubblewrapSandbox();

  it('reports a view it could not mount as the sandbox failing to start, not as the command failing', async () => {
    const workdir = await tempWorkspace({ 'a.txt': 'a\n' });
    expect(await sandbox.overlays?.(workdir)).toBe(true);
    const result = await withOverlayFolders(workdir, 'broken', async (overlay) => {
      await rm(overlay.work, { recursive: true });
      return sandbox.run({ command: 'echo ran', workdir, overlay });
    });
    expect(result.stopReason).toBe('spawn-error');
    expect(result.reason).toContain('the overlay view could not be mounted');
    expect(result.output).not.toContain('ran');
  });

  it("leaves what the run wrote in the view's upper folder as it is, for the caller to remove", async () => {
    const workdir = await tempWorkspace({ 'a.txt': 'a\n' });
    await withOverlayFolders(workdir, 'kept', async (overlay) => {
      const result = await sandbox.run({ command: 'mkdir -p dist && echo built > dist/out.js', workdir, overlay });
      expect(result.exitCode).toBe(0);
      // Not handed back to root first: that would be a chown of every file a build wrote.
      expect((await stat(path.join(overlay.upper, 'dist/out.js'))).uid).toBe(65534);
    });
  });
});
