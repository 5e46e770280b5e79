/** Option parsers and process helpers the commands share. */
import { once } from 'node:events';
import os from 'node:os';
import { msToNumber } from '@temporalio/common/lib/time';
import { InvalidArgumentError, Option } from 'commander';
import { parsePort, portExpectation } from '../config/ports';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

/** "90s", "30m", "2h" → milliseconds. */
export function duration(value: string): number {
  try {
    const ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
    if (ms > 0) return ms;
  } catch {
    // fall through to the message below
  }
  throw new InvalidArgumentError('expected a duration such as 90s, 30m or 2h.');
}

/** A port to listen on; 0 (a free port) only where `allowAny`. */
export function listenPort(value: string, allowAny = false): number {
  const port = parsePort(value, allowAny);
  if (port === undefined) throw new InvalidArgumentError(portExpectation(allowAny));
  return port;
}

/** The embedded Temporal server's gRPC port (`ado dev`, `ado demo`; ADO_TEMPORAL_PORT). */
export const DEFAULT_TEMPORAL_PORT = 7233;
/** Its Web UI's port (ADO_TEMPORAL_UI_PORT). */
export const DEFAULT_TEMPORAL_UI_PORT = 8233;
/** `ado codec`'s port (ADO_CODEC_PORT); the one `ado dev` starts for its Web UI takes a free port unless the variable says. */
export const DEFAULT_CODEC_PORT = 8081;

/**
 * A port option that falls back to the variable `envVar`, then to `fallback`; a bad value gets
 * commander's error naming the option or the variable. `VAR=` (empty) means unset.
 */
export function portOption(flags: string, description: string, envVar: string, fallback: number, allowAny = false): Option {
  return new Option(flags, description)
    .env(envVar)
    .default(fallback)
    .argParser((value: string, previous: number) => (value.trim() === '' ? previous : listenPort(value, allowAny)));
}

/** The user running the CLI; arbitrary uids (containers) have no name, and get one that says so. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/**
 * Ctrl-C and SIGTERM as a stop request, from now on: `signal` aborts and `requested` resolves at
 * the first one. `dispose` stops listening.
 */
export function stopRequests(): { signal: AbortSignal; requested: Promise<void>; dispose(): void } {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const name of signals) process.on(name, onSignal);
  return {
    signal: stop.signal,
    requested: stop.signal.aborted ? Promise.resolve() : once(stop.signal, 'abort').then(() => undefined),
    dispose: () => {
      for (const name of signals) process.off(name, onSignal);
    },
  };
}

/** Resolves on Ctrl-C or SIGTERM. */
export async function untilSignal(): Promise<void> {
  const done = new AbortController();
  await Promise.race(['SIGINT', 'SIGTERM'].map((signal) => once(process, signal, { signal: done.signal }).catch(() => undefined)));
  done.abort();
}
