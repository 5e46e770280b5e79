import { describe, expect, it } from 'vitest';
import { ReplayGuard } from './replay-guard';

describe('ReplayGuard', () => {
  it('accepts a signature once, and forgets it only after its timestamp has left the window', () => {
    const guard = new ReplayGuard(300);
    const ts = 1_700_000_000;
    expect(guard.firstUse('v0=abc', ts, ts * 1000)).toBe(true);
    expect(guard.firstUse('v0=abc', ts, (ts + 299) * 1000)).toBe(false);
    expect(guard.firstUse('v0=def', ts, (ts + 299) * 1000)).toBe(true);
    expect(guard.firstUse('v0=abc', ts, (ts + 301) * 1000)).toBe(true);
  });
});
