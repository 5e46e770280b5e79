import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gvisorAvailable } from '../../../test/sandbox/helpers';

const execFileAsync = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

/** `ado sandbox check …` in a process of its own, with `env` over a clean sandbox configuration. */
async function check(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ADO_SANDBOX')));
  try {
    const { stdout, stderr } = await execFileAsync(path.join(root, 'node_modules/.bin/tsx'), ['src/cli/main.ts', 'sandbox', 'check', ...args], { cwd: root, env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('ado sandbox check', () => {
  it('runs the chosen probes against the configured backend and reports them contained, as JSON too', async () => {
    const result = await check(['--only', 'host loopback', '--json'], { ADO_SANDBOX: 'bubblewrap' });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { backend: string; probes: number; contained: number; verdicts: { name: string; contained: boolean }[]; overlayViews: unknown };
    expect(report).toMatchObject({ backend: 'bubblewrap', probes: 2, contained: 2 });
    expect(report.verdicts.map((verdict) => verdict.name)).toEqual([
      'cannot connect to a listener on the host loopback',
      'with network, cannot reach the host loopback: not directly, not through the egress proxy by address or by name',
    ]);
    // As root, execute and the gates run on overlay views: the probes run there too.
    expect(report.overlayViews).toEqual(process.getuid?.() === 0 ? expect.objectContaining({ probes: 2, contained: 2, escaped: 0 }) : null);
  });

  it('finds the escape of a backend that isolates nothing, says what got out and exits non-zero', async () => {
    const result = await check(['--only', 'listener on the host loopback'], { ADO_SANDBOX: 'process', ADO_SANDBOX_ALLOW_UNSAFE: '1' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ESCAPED');
    expect(result.stdout).toContain('connections the host listener accepted: expected 0, got 1');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('1 probe, 0 contained, 1 ESCAPED');
  });

  it('refuses a filter no probe matches, listing the probes', async () => {
    const result = await check(['--only', 'no such probe'], { ADO_SANDBOX: 'bubblewrap' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no probe name contains "no such probe"; the probes are:');
    expect(result.stderr).toContain('cannot write outside the workspace');
  });

  it('says what to fix, and runs no probe, when the backend cannot start here', async () => {
    const result = await check([], { ADO_SANDBOX: 'gvisor', ADO_RUNSC_PATH: '/nonexistent/runsc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ADO_RUNSC_PATH=\/nonexistent\/runsc is not an executable file|The gVisor backend needs root/);
    expect(result.stdout).not.toContain('ESCAPED');
  });

  it.runIf(gvisorAvailable())('checks the gVisor backend when the operator chooses it', async () => {
    const result = await check(['--only', 'outside the workspace'], { ADO_SANDBOX: 'gvisor' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Sandbox backend: gvisor.');
    expect(result.stdout.trim().split('\n').at(-1)).toBe('1 probe, 1 contained');
  });
});
