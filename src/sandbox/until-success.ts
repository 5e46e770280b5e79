/**
 * `start` run once and its promise shared by every caller, unless it fails: a failure is not
 * remembered, so the next call runs it again (the host may have been fixed meanwhile).
 */
export function untilSuccess<T>(start: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= start().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
