/**
 * Replay protection for signed requests: a signature is accepted once. A signature covers its
 * timestamp, and a timestamp older than the window is refused anyway, so each signature only has
 * to be remembered until its timestamp leaves the window.
 */
import { SIGNATURE_WINDOW_SECONDS } from '../../notifications/signature';

/**
 * Remembers the signatures of accepted requests in this process. Behind several API servers a
 * replay to another server passes this guard; the task itself then refuses the repeated
 * decision as no longer pending, so nothing changes either way.
 */
export class ReplayGuard {
  /** Signature → when it may be forgotten (ms). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowSeconds: number = SIGNATURE_WINDOW_SECONDS) {}

  /** True the first time `signature` is offered; false for a replay. */
  firstUse(signature: string, timestampSeconds: number, nowMs: number = Date.now()): boolean {
    for (const [key, forgetAt] of this.seen) if (forgetAt < nowMs) this.seen.delete(key);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, (timestampSeconds + this.windowSeconds) * 1000);
    return true;
  }
}
