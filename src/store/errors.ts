/** An error's message for a one-line report, including each part of an `AggregateError`. */
export function describeError(err: unknown): string {
  // pg reports a refused connection to every address of a host as an AggregateError with no message.
  if (err instanceof AggregateError && err.message === '') return err.errors.map(describeError).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}
