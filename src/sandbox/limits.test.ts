import { describe, expect, it } from 'vitest';
import { boundLimits, resolveLimits, rlimitOptions } from './limits';
import { DEFAULT_SANDBOX_CEILINGS, DEFAULT_SANDBOX_LIMITS } from './types';

describe('resolveLimits', () => {
  it('layers overrides over defaults over the built-in limits', () => {
    expect(resolveLimits({ wallTimeMs: 5000, maxProcesses: 10 }, { maxProcesses: 20 }, undefined)).toEqual({
      ...DEFAULT_SANDBOX_LIMITS,
      wallTimeMs: 5000,
      maxProcesses: 20,
    });
  });

  it('names the limit that is not a positive whole number', () => {
    expect(() => resolveLimits({ memoryBytes: 0 })).toThrow(/memoryBytes must be a positive whole number, got 0/);
    expect(() => resolveLimits({ cpuTimeSec: 1.5 })).toThrow(/cpuTimeSec/);
  });
});

describe('boundLimits', () => {
  it('lowers what is above a ceiling to it and names it, and leaves the rest', () => {
    const ceilings = { ...DEFAULT_SANDBOX_CEILINGS, maxProcesses: 512, memoryBytes: 4 * 1024 ** 3 };
    const asked = { ...DEFAULT_SANDBOX_LIMITS, maxProcesses: 50_000, memoryBytes: 30 * 1024 ** 3, wallTimeMs: 1000 };
    expect(boundLimits(asked, ceilings)).toEqual({ limits: { ...asked, maxProcesses: 512, memoryBytes: 4 * 1024 ** 3 }, lowered: ['memoryBytes', 'maxProcesses'] });
  });
});

describe('rlimitOptions', () => {
  it('sets CPU (soft then hard), data, no core dumps and, when asked, processes', () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, cpuTimeSec: 10, memoryBytes: 2048, maxProcesses: 7, diskBytes: 4096 };
    expect(rlimitOptions(limits, { processes: true })).toEqual(['--cpu=10:11', '--data=2048', '--fsize=4096', '--core=0', '--nproc=7']);
    expect(rlimitOptions(limits, { processes: false })).not.toContain('--nproc=7');
  });
});
