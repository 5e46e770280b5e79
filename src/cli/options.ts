/** Option parsers and process helpers the commands share. */
import { once } from 'node:events';
import os from 'node:os';
import { msToNumber } from '@temporalio/common/lib/time';
import { InvalidArgumentError } from 'commander';

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
  const n = Number(value);
  const min = allowAny ? 0 : 1;
  if (Number.isInteger(n) && n >= min && n <= 65535) return n;
  throw new InvalidArgumentError(allowAny ? 'expected a port number (0-65535; 0 picks a free port).' : 'expected a port number (1-65535).');
}

/** The user running the CLI; arbitrary uids (containers) have no name, and get one that says so. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Resolves on Ctrl-C or SIGTERM. */
export async function untilSignal(): Promise<void> {
  const done = new AbortController();
  await Promise.race(['SIGINT', 'SIGTERM'].map((signal) => once(process, signal, { signal: done.signal }).catch(() => undefined)));
  done.abort();
}
