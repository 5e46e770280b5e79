import { existsSync, mkdtempSync, promises as fs, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installOnce } from './install-once';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ado-install-once-'));
  const target = path.join(dir, 'tool');
  const installs: string[] = [];
  const options = {
    target,
    isInstalled: async () => existsSync(path.join(target, 'done')),
    install: async (staging: string) => {
      installs.push(staging);
      await fs.mkdir(staging);
      await new Promise((r) => setTimeout(r, 300));
      await fs.writeFile(path.join(staging, 'done'), 'yes');
    },
  };
  return { target, installs, options };
}

describe('installOnce', () => {
  it('installs once when several callers ask at the same time; all see the result', async () => {
    const { target, installs, options } = setup();
    await Promise.all([installOnce(options), installOnce(options), installOnce(options)]);
    expect(installs).toHaveLength(1);
    expect(existsSync(path.join(target, 'done'))).toBe(true);
    expect(existsSync(`${target}.lock`)).toBe(false);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const { target, installs, options } = setup();
    writeFileSync(`${target}.lock`, '999999999');
    await installOnce(options);
    expect(installs).toHaveLength(1);
  });

  it('waits on a lock whose holder has not written its pid yet, and takes it over once that is old', async () => {
    const { target, installs, options } = setup();
    writeFileSync(`${target}.lock`, '');
    await expect(installOnce({ ...options, waitMs: 600 })).rejects.toThrow('Gave up waiting');
    expect(installs).toHaveLength(0);
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(`${target}.lock`, longAgo, longAgo);
    await installOnce(options);
    expect(installs).toHaveLength(1);
  });

  it('leaves nothing half-installed when the install fails, and lets the next caller try again', async () => {
    const { target, installs, options } = setup();
    await expect(installOnce({ ...options, install: () => Promise.reject(new Error('pip failed')) })).rejects.toThrow('pip failed');
    expect(existsSync(target)).toBe(false);
    await installOnce(options);
    expect(installs).toHaveLength(1);
  });
});
