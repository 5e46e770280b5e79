/**
 * Settings parsed from an explicit env object, with errors that name each variable: every
 * `…ConfigFromEnv` uses these, so an empty variable and a wrong one read the same everywhere.
 */
import { z } from 'zod';
import { type AdoError, FailureType, nonRetryable } from '../domain/errors';
import { describeIssues } from '../domain/task-input';

/** `VAR=` (empty, or only spaces) means unset. */
export const unsetWhenEmpty = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** An optional variable checked by `schema`; empty means unset. */
export const optionalVar = <T extends z.ZodType>(schema: T) => z.preprocess(unsetWhenEmpty, schema.optional());

/** An optional whole number of `unit`, at least `min`; `fallback` when unset. */
export const wholeNumberVar = (fallback: number, min: number, unit: string) =>
  optionalVar(
    z
      .string()
      .trim()
      .regex(/^\d+$/, `expected a whole number of ${unit}`)
      .transform(Number)
      .pipe(z.number().min(min, `expected at least ${min} ${unit}`)),
  ).transform((v) => v ?? fallback);

/** A non-retryable `InvalidConfig` error: "Invalid `what` configuration: `problem`". */
export function invalidConfig(what: string, problem: string, cause?: unknown): AdoError {
  return nonRetryable(FailureType.InvalidConfig, `Invalid ${what} configuration: ${problem}`, { cause });
}

/** `schema` applied to `env`; a non-retryable `InvalidConfig` error naming each wrong variable otherwise. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw invalidConfig(what, describeIssues(parsed.error), parsed.error);
  return parsed.data;
}
