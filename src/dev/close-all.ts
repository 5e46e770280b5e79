/** Stopping what a stack started, however far its start got. */

/**
 * Runs `closers` last first (what started last stops first), each one even when an earlier one
 * throws, so a failure to close one part never leaves another (a dev server child) running.
 * Throws the one error, or an `AggregateError` of all of them.
 */
export async function closeAll(closers: ReadonlyArray<() => Promise<void>>): Promise<void> {
  const errors: unknown[] = [];
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(errors, `${errors.length} parts failed to stop: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
  }
}
