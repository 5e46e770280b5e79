/**
 * The sandbox escape suite: every probe of src/sandbox/escape/probes.ts (what `ado sandbox check`
 * runs too) against each backend this host has: bubblewrap always, gVisor when runsc is there
 * (`.ci/run` builds it) and ADO runs as root. A probe passes when every judgement held; a failure
 * names what got out. One probe needs a test helper and stays here: TIOCSTI, which needs the
 * worker to have a terminal. Escapes through ADO's own host-side work (git, edits, the
 * repository's configuration) are tried through whole tasks in test/e2e/trust-boundary.test.ts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gvisorAvailable, tempWorkspace } from '../../test/sandbox/helpers';
import { ESCAPE_PROBES } from './escape/probes';
import { onOverlayViews, runEscapeProbe } from './escape/run-probes';
import { createSandbox, type SandboxBackend } from './index';

const execFileAsync = promisify(execFile);

const BACKENDS: SandboxBackend[] = gvisorAvailable() ? ['bubblewrap', 'gvisor'] : ['bubblewrap'];

describe.each(BACKENDS)('%s sandbox escape attempts', (backend) => {
  const sandbox = createSandbox({ backend });

  it.each(ESCAPE_PROBES.map((probe) => [probe.name, probe] as const))('%s', async (_name, probe) => {
    const verdict = await runEscapeProbe(sandbox, probe);
    expect(verdict.failures).toEqual([]);
    expect(verdict.contained).toBe(true);
  });

  it('cannot push characters into the terminal of the process that started it (TIOCSTI)', async () => {
    const workdir = await tempWorkspace();
    const helper = path.resolve(__dirname, '../../test/sandbox/tiocsti-host.ts');
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    // pty.spawn gives the helper a pseudo-terminal as its controlling terminal, as a worker started from a shell has.
    const { stdout } = await execFileAsync('python3', ['-c', 'import pty, sys; pty.spawn(sys.argv[1:])', tsx, helper, workdir], { env: { ...process.env, ADO_SANDBOX: backend } });
    const report = JSON.parse(/\{.*\}/.exec(stdout)?.[0] ?? '{}') as { hostHasTerminal?: boolean; stopReason?: string; output?: string };
    expect(report.hostHasTerminal).toBe(true);
    expect(report.stopReason).toBe('exit');
    expect(report.output).toMatch(/fd0:\d+ fd1:\d+ fd2:\d+ tty(-open)?:\d+/);
    expect(report.output).not.toContain('INJECTED');
  });
});

// As root, gates run on overlay views: mounted by root just before the sandbox starts, then the
// command drops to the sandbox user. The same probes must stay inside.
describe.runIf(process.getuid?.() === 0)('bubblewrap sandbox escape attempts on an overlay view', () => {
  const sandbox = onOverlayViews(createSandbox({ backend: 'bubblewrap' }));

  it.each(ESCAPE_PROBES.map((probe) => [probe.name, probe] as const))('%s', async (_name, probe) => {
    const verdict = await runEscapeProbe(sandbox, probe);
    expect(verdict.failures).toEqual([]);
    expect(verdict.contained).toBe(true);
  });
});
