/** Listening ports from flags and variables, with one reading of what a valid port is. */
import { FailureType, nonRetryable } from '../domain/errors';

/** A port to listen on, or undefined; 0 (a free port) only where `allowAny`. */
export function parsePort(value: string, allowAny = false): number | undefined {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= (allowAny ? 0 : 1) && n <= 65535 ? n : undefined;
}

/** What a valid port is, for error messages. */
export function portExpectation(allowAny = false): string {
  return allowAny ? 'expected a port number (0-65535; 0 picks a free port).' : 'expected a port number (1-65535).';
}

/** A port from `env[name]`, `fallback` when unset or empty; a bad value is a non-retryable `InvalidConfig` error naming the variable. */
export function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, allowAny = false): number {
  const value = env[name];
  if (value === undefined || value.trim() === '') return fallback;
  const port = parsePort(value, allowAny);
  if (port === undefined) throw nonRetryable(FailureType.InvalidConfig, `${name}=${value} is not a usable port: ${portExpectation(allowAny)}`);
  return port;
}
