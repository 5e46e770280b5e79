/**
 * Runs the escape probes against a sandbox, one after the other, each in a fresh workspace, and
 * reports each as contained or not: what `ado sandbox check` prints and the tests assert.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withOverlayFolders } from '../overlay';
import type { Sandbox } from '../types';
import { Cleanup } from './host-fixtures';
import { ESCAPE_PROBES, Judgement, type EscapeProbe } from './probes';

export interface ProbeVerdict {
  name: string;
  /** True when every judgement held. */
  contained: boolean;
  /** What did not hold (a probe that threw has its error here). */
  failures: string[];
  durationMs: number;
}

/**
 * `sandbox` with every run on an overlay view of its workspace, as execute and the gates run where
 * the sandbox has views (`Sandbox.overlays`): the probes then try to get out of a view.
 */
export function onOverlayViews(sandbox: Sandbox): Sandbox {
  return {
    backend: sandbox.backend,
    runsAsOtherUser: sandbox.runsAsOtherUser,
    run: (spec, options) => withOverlayFolders(spec.workdir, 'probe', (overlay) => sandbox.run({ ...spec, overlay }, options)),
  };
}

/** Runs `probe` against `sandbox` in a fresh workspace, and undoes what it prepared. */
export async function runEscapeProbe(sandbox: Sandbox, probe: EscapeProbe): Promise<ProbeVerdict> {
  const started = performance.now();
  const cleanup = new Cleanup();
  const judgement = new Judgement();
  try {
    const workdir = await mkdtemp(path.join(os.tmpdir(), 'ado-escape-probe-'));
    cleanup.add(() => rm(workdir, { recursive: true, force: true }));
    const context = { workdir, cleanup, backend: sandbox.backend };
    const fixture = await probe.setup(context);
    const outcome = await probe.attempt((spec, options) => sandbox.run(spec, options), context, fixture);
    await probe.judge(judgement, outcome, fixture, context);
  } catch (error) {
    judgement.failures.push(`the probe could not run: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanup.run();
  }
  return { name: probe.name, contained: judgement.failures.length === 0, failures: judgement.failures, durationMs: Math.round(performance.now() - started) };
}

/** Every probe (or those `only` keeps) against `sandbox`, in order; `onVerdict` hears each as it ends. */
export async function runEscapeProbes(
  sandbox: Sandbox,
  options: { only?: (probe: EscapeProbe) => boolean; onVerdict?: (verdict: ProbeVerdict) => void } = {},
): Promise<ProbeVerdict[]> {
  const verdicts: ProbeVerdict[] = [];
  for (const probe of ESCAPE_PROBES.filter(options.only ?? (() => true))) {
    const verdict = await runEscapeProbe(sandbox, probe);
    options.onVerdict?.(verdict);
    verdicts.push(verdict);
  }
  return verdicts;
}
