/**
 * The environment a sandboxed command sees: none of the worker's variables (its secrets least of
 * all), only an allowlist plus what the run asks for.
 */
import { FailureType, nonRetryable } from '../domain/errors';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * PATH and HOME as given, LANG=C.UTF-8, TERM=dumb, CI=1, then `extra` (which may override any of
 * them). Throws a non-retryable `InvalidInput` error for a name a shell could not export or a
 * value with a NUL byte.
 */
export function sandboxEnvironment(base: { PATH: string; HOME: string }, extra: Record<string, string> = {}): Record<string, string> {
  for (const [name, value] of Object.entries(extra)) {
    if (!VARIABLE_NAME.test(name)) {
      throw nonRetryable(
        FailureType.InvalidInput,
        `Sandbox environment variable name ${JSON.stringify(name)} is not valid: use letters, digits and _, not starting with a digit.`,
      );
    }
    if (value.includes('\0')) {
      throw nonRetryable(FailureType.InvalidInput, `Sandbox environment variable ${name} contains a NUL byte; remove it.`);
    }
  }
  return { PATH: base.PATH, HOME: base.HOME, LANG: 'C.UTF-8', TERM: 'dumb', CI: '1', ...extra };
}
