/** Telemetry settings parsed from an explicit env object, with errors that name each variable. */
import type { z } from 'zod';
import { AdoError, FailureType } from '../domain/errors';
import { describeIssues } from '../domain/task-input';

/** `VAR=` (empty) means unset. */
export const unsetWhenEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/** `schema` applied to `env`; a non-retryable `InvalidConfig` error naming each wrong variable otherwise. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new AdoError(FailureType.InvalidConfig, `Invalid ${what} configuration: ${describeIssues(parsed.error)}`, { nonRetryable: true, cause: parsed.error });
  }
  return parsed.data;
}
