import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../sandbox';
import { tempWorkspace } from '../../test/sandbox/helpers';
import { describeGateProgress, runGates } from './runner';

const execFileAsync = promisify(execFile);
const sandbox = createSandbox({ backend: 'bubblewrap' });
/** The same sandbox without overlay views: gates get copies. */
const copying: Sandbox = { backend: sandbox.backend, runsAsOtherUser: sandbox.runsAsOtherUser, run: (spec, options) => sandbox.run(spec, options) };

/** Overlay mounts this process's mount namespace can see of views of `folder` (`.<name>.<gate>-…`, beside it). */
async function overlayMountsOf(folder: string): Promise<string[]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  return lines.filter((line) => line.includes(' - overlay ') && line.includes(`/.${path.basename(folder)}.`));
}

describe('runGates', () => {
  it('passes when every gate exits 0 and reports each gate', async () => {
    const workdir = await tempWorkspace({ 'src/a.js': 'module.exports = 1;\n' });
    const outcome = await runGates(
      sandbox,
      [
        { name: 'typecheck', command: 'node --check src/a.js' },
        { name: 'test', command: 'node -e "require(\'./src/a.js\') === 1 || process.exit(1)"' },
      ],
      workdir,
    );
    expect(outcome.passed).toBe(true);
    expect(outcome.failures).toEqual([]);
    expect(outcome.gates).toEqual([
      { gate: 'typecheck', command: 'node --check src/a.js', passed: true, exitCode: 0, durationMs: expect.any(Number) },
      { gate: 'test', command: expect.stringContaining('node -e'), passed: true, exitCode: 0, durationMs: expect.any(Number) },
    ]);
  });

  it('reports a failing gate with its exit code and the first useful lines of its output', async () => {
    const workdir = await tempWorkspace({
      'package.json': JSON.stringify({ name: 'demo', version: '1.0.0', scripts: { test: 'node --test' } }),
      'test/sum.test.js':
        "const test = require('node:test'); const assert = require('node:assert');\n" +
        "test('adds', () => { assert.strictEqual(2 - 3, 5); });\n",
    });
    const outcome = await runGates(
      sandbox,
      [
        { name: 'lint', command: 'true' },
        { name: 'test', command: 'npm test' },
      ],
      workdir,
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.gates.map((gate) => [gate.gate, gate.passed])).toEqual([
      ['lint', true],
      ['test', false],
    ]);
    expect(outcome.failures).toHaveLength(1);
    const [failure] = outcome.failures;
    expect(failure).toMatchObject({ tool: 'test', exitCode: 1 });
    expect(failure?.message).toContain('-1 !== 5');
    expect(failure?.message).not.toContain('> demo@1.0.0 test');
  });

  it('gives each gate its own timeout and says why a gate was stopped', async () => {
    const workdir = await tempWorkspace();
    const outcome = await runGates(
      sandbox,
      [
        { name: 'slow', command: 'echo waiting; sleep 30', timeoutMs: 1000 },
        { name: 'quick', command: 'sleep 1.5; echo done' },
      ],
      workdir,
      { limits: { wallTimeMs: 20_000 } },
    );
    expect(outcome.gates.find((gate) => gate.gate === 'slow')).toMatchObject({ passed: false, stopReason: 'timeout', exitCode: null });
    expect(outcome.gates.find((gate) => gate.gate === 'quick')).toMatchObject({ passed: true });
    expect(outcome.failures).toEqual([{ tool: 'slow', message: 'killed: wall time 1 s exceeded\nwaiting' }]);
  });

  it('runs gates at the same time', async () => {
    // Each gate waits for the other's mark: run one after the other, both would time out.
    const workdir = await tempWorkspace();
    const waitFor = (mark: string) => `for i in $(seq 100); do [ -e ${mark} ] && exit 0; sleep 0.1; done; exit 1`;
    const outcome = await runGates(
      sandbox,
      [
        { name: 'left', command: `touch left.started; ${waitFor('right.started')}`, timeoutMs: 15_000 },
        { name: 'right', command: `touch right.started; ${waitFor('left.started')}`, timeoutMs: 15_000 },
      ],
      workdir,
      { copyWorkspace: false },
    );
    expect(outcome.passed).toBe(true);
  });

  it('says which gates run and how many are done whenever one starts or ends', async () => {
    const workdir = await tempWorkspace();
    const told: string[] = [];
    // lint ends first: it waits for nothing; test waits until lint has been reported done.
    await runGates(
      sandbox,
      [
        { name: 'test', command: 'for i in $(seq 100); do [ -e lint.done ] && exit 0; sleep 0.1; done; exit 1', timeoutMs: 15_000 },
        { name: 'lint', command: 'true' },
      ],
      workdir,
      { copyWorkspace: false, report: (doing) => (told.push(doing), doing.includes('1 of 2') && void writeFile(path.join(workdir, 'lint.done'), '')) },
    );
    expect(told).toEqual([
      'quality gates: test, lint running (0 of 2 done)',
      'quality gates: test running (1 of 2 done)',
      'quality gates: all done (2 of 2 done)',
    ]);
    expect(describeGateProgress(['execute'], 0, 1)).toBe('execute running');
  });

  it('gives each gate a private copy of the workspace and leaves the workspace untouched', async () => {
    const workdir = await tempWorkspace({ 'shared.txt': 'original\n' });
    const writeAndCheck = (value: string) => `echo ${value} > shared.txt; mkdir -p dist; echo ${value} > dist/out; sleep 0.5; test "$(cat shared.txt dist/out)" = "${value}
${value}"`;
    const outcome = await runGates(
      sandbox,
      [
        { name: 'build', command: writeAndCheck('build') },
        { name: 'test', command: writeAndCheck('test') },
      ],
      workdir,
    );
    expect(outcome.passed).toBe(true);
    expect(await readFile(path.join(workdir, 'shared.txt'), 'utf8')).toBe('original\n');
    expect(await readdir(workdir)).toEqual(['shared.txt']);
    expect((await readdir(path.dirname(workdir))).filter((name) => name.startsWith(`.${path.basename(workdir)}.`))).toEqual([]);
  });

  it('stops every gate when the caller aborts', async () => {
    const workdir = await tempWorkspace();
    const controller = new AbortController();
    const outcome = await runGates(
      sandbox,
      [
        { name: 'a', command: 'sleep 30' },
        { name: 'b', command: 'sleep 30' },
      ],
      workdir,
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.gates.map((gate) => gate.stopReason)).toEqual(['cancelled', 'cancelled']);
    expect(outcome.failures.map((failure) => failure.message)).toEqual(['killed: the run was cancelled', 'killed: the run was cancelled']);
  });

  it('rejects gates without a command and duplicate names', async () => {
    const workdir = await tempWorkspace();
    await expect(runGates(sandbox, [{ name: 'lint', command: ' ' }], workdir)).rejects.toThrow(/needs a name and a command/);
    await expect(
      runGates(
        sandbox,
        [
          { name: 'lint', command: 'true' },
          { name: 'lint', command: 'false' },
        ],
        workdir,
      ),
    ).rejects.toThrow(/listed twice/);
  });

  it('passes with no gates to run', async () => {
    const workdir = await tempWorkspace();
    expect(await runGates(sandbox, [], workdir)).toEqual({ passed: true, gates: [], failures: [] });
  });

  // As root the sandbox runs as nobody, the condition under which copies share installed files.
  it.runIf(process.getuid?.() === 0)('shares installed files with the copies by hard link, and a gate writing through one cannot change the workspace', async () => {
    const workdir = await tempWorkspace({
      'src/a.js': 'module.exports = 1;\n',
      'node_modules/dep/index.js': 'module.exports = "dep";\n',
      'node_modules/dep/open.js': 'open to all\n',
      'node_modules/dep/.bin/tool': '#!/bin/sh\necho tool\n',
    });
    await chmod(path.join(workdir, 'node_modules/dep/open.js'), 0o666);
    // Each line: an attempt and what must come of it; `bad` collects what did not.
    const attack = [
      'bad=""',
      // Linked: one inode, several names (the workspace's, each copy's); none of these may reach it.
      '[ "$(stat -c %h node_modules/dep/index.js)" -ge 2 ] || bad="$bad not-linked"',
      'echo pwned >> node_modules/dep/index.js 2>/dev/null && bad="$bad appended"',
      'chmod 666 node_modules/dep/index.js 2>/dev/null && bad="$bad chmod"',
      'truncate -s 0 node_modules/dep/.bin/tool 2>/dev/null && bad="$bad truncated"',
      // Replacing a linked file is the gate's own business: its copy changes, nothing else.
      '{ rm -f node_modules/dep/.bin/tool && echo replaced > node_modules/dep/.bin/tool; } || bad="$bad no-replace"',
      // Files the sandbox could write are copied, as are the repository's own.
      '[ "$(stat -c %h node_modules/dep/open.js)" = 1 ] || bad="$bad open-linked"',
      'echo pwned >> node_modules/dep/open.js || bad="$bad open-read-only"',
      'echo pwned >> src/a.js || bad="$bad own-read-only"',
      '{ mkdir -p node_modules/.cache && echo new > node_modules/.cache/x; } || bad="$bad no-cache"',
      'echo "bad:$bad"; [ -z "$bad" ]',
    ].join('\n');
    const outcome = await runGates(copying, [{ name: 'test', command: attack }, { name: 'lint', command: 'cat node_modules/dep/.bin/tool' }], workdir, { linkable: async () => ['node_modules'] });
    expect(outcome.failures).toEqual([]);
    const before = { 'src/a.js': 'module.exports = 1;\n', 'node_modules/dep/index.js': 'module.exports = "dep";\n', 'node_modules/dep/open.js': 'open to all\n', 'node_modules/dep/.bin/tool': '#!/bin/sh\necho tool\n' };
    for (const [file, content] of Object.entries(before)) expect(await readFile(path.join(workdir, file), 'utf8')).toBe(content);
    const index = await stat(path.join(workdir, 'node_modules/dep/index.js'));
    expect([index.uid, index.mode & 0o777, index.nlink]).toEqual([0, 0o644, 1]);
    expect(await readdir(path.join(workdir, 'node_modules'))).toEqual(['dep']);
  });

  it.runIf(process.getuid?.() === 0)('gives each gate an overlay view as root: whatever a gate does there, the workspace stays as it was and no mount is left', async () => {
    const workdir = await tempWorkspace({ 'src/a.js': 'module.exports = 1;\n', 'package.json': '{"scripts":{"test":"echo theirs"}}\n', 'node_modules/dep/index.js': 'dep\n' });
    await chmod(workdir, 0o755);
    expect(await sandbox.overlays?.(workdir)).toBe(true);
    const attack = [
      'bad=""',
      'echo pwned >> src/a.js || bad="$bad no-append"',
      'chmod 777 src node_modules/dep/index.js || bad="$bad no-chmod"',
      // A rename, not a copy: tools that rename folders expect it to work (overlayfs says EXDEV unless told otherwise).
      'node -e "require(\'fs\').renameSync(\'node_modules\', \'moved\')" || bad="$bad no-rename"',
      'rm -rf moved || bad="$bad no-rm"',
      'ln -s /etc/passwd src/link && echo new > src/new.js || bad="$bad no-create"',
      'mkdir -p dist && echo built > dist/out.js || bad="$bad no-mkdir"',
      // The overlay is not this run's to take apart: no user namespace, no mount rights.
      'umount /workspace 2>/dev/null && bad="$bad umounted"',
      // Each gate sees its own writes only: the other gate writes dist/ too.
      'sleep 0.5; [ "$(cat dist/out.js)" = built ] || bad="$bad saw-other"',
      // Scripts come from the base commit: the view shows them, the workspace does not get them.
      'grep -q pinned package.json || bad="$bad not-pinned"',
      'echo "bad:$bad"; [ -z "$bad" ]',
    ].join('\n');
    const outcome = await runGates(
      sandbox,
      [
        { name: 'test', command: attack },
        { name: 'build', command: 'mkdir -p dist && echo other > dist/out.js && rm -f src/a.js' },
      ],
      workdir,
      { prepare: (folder, into) => writeFile(path.join(into, 'package.json'), `{"scripts":{"test":"pinned"},"read":${JSON.stringify(folder)}}\n`) },
    );
    expect(outcome.failures).toEqual([]);
    expect(await readFile(path.join(workdir, 'src/a.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(await readFile(path.join(workdir, 'package.json'), 'utf8')).toBe('{"scripts":{"test":"echo theirs"}}\n');
    expect(await readFile(path.join(workdir, 'node_modules/dep/index.js'), 'utf8')).toBe('dep\n');
    expect((await readdir(workdir)).sort()).toEqual(['node_modules', 'package.json', 'src']);
    expect((await readdir(path.join(workdir, 'src'))).sort()).toEqual(['a.js']);
    expect((await stat(path.join(workdir, 'src'))).mode & 0o777).toBe(0o755);
    // Only read, what is in the workspace may stay lent to the sandbox user, but the folder itself
    // is closed to it: a process of that user outside the sandbox cannot get in.
    const top = await stat(workdir);
    expect([top.uid, top.mode & 0o777]).toEqual([0, 0o700]);
    const outside = await execFileAsync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'sh', '-c', `echo pwned >> ${workdir}/src/a.js`]).then(() => 'wrote', () => 'refused');
    expect(outside).toBe('refused');
    // A run in it gives it all back, as it was.
    await runGates(sandbox, [{ name: 'in-place', command: 'true' }], workdir, { copyWorkspace: false });
    for (const entry of ['src', 'src/a.js', 'node_modules/dep/index.js']) expect((await stat(path.join(workdir, entry))).uid).toBe(0);
    expect((await stat(workdir)).mode & 0o777).toBe(0o755);
    // The views' folders are gone with them; the mounts lived in the runs' own namespaces.
    expect((await readdir(path.dirname(workdir))).filter((name) => name.startsWith(`.${path.basename(workdir)}.`))).toEqual([]);
    expect(await overlayMountsOf(workdir)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)('leaves no mount and no view behind when a gate on an overlay is killed', async () => {
    const workdir = await tempWorkspace({ 'src/a.js': 'module.exports = 1;\n' });
    const outcome = await runGates(sandbox, [{ name: 'test', command: 'echo x > src/a.js; sleep 30', timeoutMs: 1000 }], workdir);
    expect(outcome.gates[0]!.stopReason).toBe('timeout');
    expect(await readFile(path.join(workdir, 'src/a.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect((await readdir(path.dirname(workdir))).filter((name) => name.startsWith(`.${path.basename(workdir)}.`))).toEqual([]);
    expect(await overlayMountsOf(workdir)).toEqual([]);
  });
});
