/** `ado sandbox check`: what the configured sandbox backend contains on this host. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { FailureType, nonRetryable } from '../../domain/errors';
import { createSandbox, sandboxConfigFromEnv, type Sandbox } from '../../sandbox';
import { ESCAPE_PROBES, type EscapeProbe } from '../../sandbox/escape/probes';
import { onOverlayViews, runEscapeProbes, type ProbeVerdict } from '../../sandbox/escape/run-probes';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';

/**
 * Runs `true` once in a throwaway workspace in the temporary folder, where the probes' are:
 * throws the backend's error (what to fix) when it cannot start; says whether runs there get
 * overlay views, as execute and the gates do where the backend has them.
 */
async function startsHere(box: Sandbox): Promise<{ views: boolean }> {
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'ado-sandbox-check-'));
  try {
    const result = await box.run({ command: 'true', workdir });
    if (result.exitCode !== 0) throw nonRetryable(FailureType.InvalidConfig, `The ${box.backend} sandbox cannot run a command on this host: ${result.reason} ${result.output.trim()}`);
    return { views: (await box.overlays?.(workdir)) === true };
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

/** One table row: the verdict, the time, the probe, and under it what got out. */
function verdictLines(verdict: ProbeVerdict): string[] {
  const seconds = `${(verdict.durationMs / 1000).toFixed(1)} s`.padStart(7);
  return [`${verdict.contained ? 'contained' : 'ESCAPED  '}  ${seconds}  ${verdict.name}`, ...verdict.failures.map((failure) => `                      ${failure}`)];
}

/** The JSON summary of `verdicts`. */
function tally(verdicts: readonly ProbeVerdict[]): { probes: number; contained: number; escaped: number; verdicts: readonly ProbeVerdict[] } {
  const contained = verdicts.filter((verdict) => verdict.contained).length;
  return { probes: verdicts.length, contained, escaped: verdicts.length - contained, verdicts };
}

/** `N probes, N contained` (and how many escaped, when any did). */
export function probeSummary(verdicts: readonly ProbeVerdict[]): string {
  const contained = verdicts.filter((verdict) => verdict.contained).length;
  const escaped = verdicts.length - contained;
  return `${verdicts.length} probe${verdicts.length === 1 ? '' : 's'}, ${contained} contained${escaped > 0 ? `, ${escaped} ESCAPED` : ''}`;
}

/** Adds `ado sandbox check` to the program. */
export function registerSandboxCommands(program: Command, ctx: CliContext): void {
  const sandbox = program.command('sandbox').description('the sandbox that repository commands run in');
  sandbox
    .command('check')
    .description(
      'run the escape probes against the configured sandbox backend (ADO_SANDBOX, its limits and egress hosts) on this host, and again on an overlay view where execute and the gates run on one; exits non-zero when any probe gets out',
    )
    .option('--only <text>', 'run only the probes whose name contains this text')
    .option('--json', 'print one JSON document')
    .action(async (opts: { json?: boolean; only?: string }) => {
      const only = opts.only?.toLowerCase();
      const probes = ESCAPE_PROBES.filter((probe) => only === undefined || probe.name.toLowerCase().includes(only));
      if (probes.length === 0) throw new InvalidArgumentError(`no probe name contains "${opts.only}"; the probes are:\n  ${ESCAPE_PROBES.map((probe) => probe.name).join('\n  ')}`);
      const config = sandboxConfigFromEnv(process.env);
      // The probes' refusals are what they test: only errors are worth a log line here.
      const logger = ctx.logger.child({}, { level: 'error' });
      const box = createSandbox({ ...config, logger, progress: (line) => process.stderr.write(`${line}\n`) });
      // A backend that cannot start here fails now, with its own message, rather than as probes that "escaped".
      const { views } = await startsHere(box);
      const text = opts.json !== true;
      const say = (...lines: string[]) => text && lines.forEach((line) => printLine(line));
      const chosen = (probe: EscapeProbe) => probes.includes(probe);
      const onVerdict = (verdict: ProbeVerdict) => say(...verdictLines(verdict));
      say(`Sandbox backend: ${box.backend}. Running ${probes.length} escape probes${probes.length === ESCAPE_PROBES.length ? ' (a minute or two)' : ''}…`, '', 'result       time  probe');
      const verdicts = await runEscapeProbes(box, { only: chosen, onVerdict });
      say('', probeSummary(verdicts));
      // Execute and the gates run on overlay views where the backend has them: the same probes there.
      let onViews: ProbeVerdict[] | undefined;
      if (views) {
        say('', 'Execute and the gates run on overlay views of the workspace here; the same probes on a view:', '', 'result       time  probe');
        onViews = await runEscapeProbes(onOverlayViews(box), { only: chosen, onVerdict });
        say('', probeSummary(onViews));
      }
      if (!text) printJson({ backend: box.backend, ...tally(verdicts), overlayViews: onViews === undefined ? null : tally(onViews) });
      process.exitCode = [...verdicts, ...(onViews ?? [])].every((verdict) => verdict.contained) ? 0 : 1;
    });
}
