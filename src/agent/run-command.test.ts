import { describe, expect, it } from 'vitest';
import { useAgentWorkspace, repoConfig } from '../../test/helpers/agent-workspace';
import { RUN_MAX_OUTPUT_CHARS } from './run-command';
import { runTool } from './run-tool';

const config = repoConfig({ gates: { test: { command: 'sh check.sh', network: false } } });
const ctx = useAgentWorkspace({ 'check.sh': 'grep -q fixed state.txt || { echo "state is broken"; exit 1; }\n', 'state.txt': 'broken\n' }, config);

describe('run', () => {
  it('runs a command in the sandbox at the workspace root, with its exit status', async () => {
    const out = await runTool({ id: 'r', name: 'run', args: { command: 'cat state.txt; pwd; exit 3' } }, ctx());
    expect(out.ok).toBe(false);
    expect(out.text).toContain('$ cat state.txt; pwd; exit 3\nbroken\n/workspace\n');
    expect(out.text).toContain('exited with code 3');
  });

  it('has no network', async () => {
    const out = await runTool({ id: 'r', name: 'run', args: { command: 'cat /sys/class/net/*/operstate 2>/dev/null | grep -c up || echo no-net' } }, ctx());
    expect(out.text).toContain('no-net');
  });

  it('cuts long output to head and tail with a note', async () => {
    const out = await runTool({ id: 'r', name: 'run', args: { command: 'seq 1 20000' } }, ctx());
    expect(out.ok).toBe(true);
    expect(out.text.length).toBeLessThan(RUN_MAX_OUTPUT_CHARS + 500);
    expect(out.text).toContain('\n1\n2\n');
    expect(out.text).toContain('\n20000');
    expect(out.text).toMatch(/characters \(\d+ lines\) cut; run a narrower command/);
  });
});

describe('run_gates and finish', () => {
  it('refuses to finish while the gates fail and hands their failures back; finishes once they pass', async () => {
    const refused = await runTool({ id: 'f', name: 'finish', args: { summary: 'Fixed the state' } }, ctx());
    expect(refused).toMatchObject({ ok: false, gates: { passed: false } });
    expect(refused.finished).toBeUndefined();
    expect(refused.text).toContain('Not finished: the quality gates fail');
    expect(refused.text).toContain('state is broken');

    await runTool({ id: 'e', name: 'create', args: { path: 'state.txt', file_text: 'fixed\n' } }, ctx());
    expect(await runTool({ id: 'g', name: 'run_gates', args: {} }, ctx())).toMatchObject({ ok: true, text: 'Quality gates passed:\ntest: passed' });
    const finished = await runTool({ id: 'f', name: 'finish', args: { summary: 'Fixed the state' } }, ctx());
    expect(finished).toMatchObject({ ok: true, finished: { summary: 'Fixed the state' }, gates: { passed: true } });
  });
});
