import { expect } from 'vitest';
import { AdoError } from '../../src/domain/errors';

/** The `AdoError` that `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function adoErrorOf(promise: Promise<unknown>): Promise<AdoError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdoError);
  return err as AdoError;
}
