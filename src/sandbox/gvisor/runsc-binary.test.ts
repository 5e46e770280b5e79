import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { locateRunsc, runscCacheFolder } from './runsc-binary';

async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-runsc-locate-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function executable(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

describe('locateRunsc', () => {
  it('takes the configured path, then PATH, then the cache', async () => {
    const dir = await tempFolder();
    const configured = await executable(path.join(dir, 'opt', 'runsc'));
    const onPath = await executable(path.join(dir, 'bin', 'runsc'));
    const cached = await executable(path.join(runscCacheFolder(path.join(dir, 'cache')), 'bin', 'runsc'));
    const env = { PATH: path.join(dir, 'bin') };
    const cacheDir = path.join(dir, 'cache');
    expect(await locateRunsc({ configuredPath: configured, env, cacheDir })).toBe(configured);
    expect(await locateRunsc({ env, cacheDir })).toBe(onPath);
    expect(await locateRunsc({ env: { PATH: path.join(dir, 'empty') }, cacheDir })).toBe(cached);
  });

  it('refuses a configured path that is not an executable, saying what to do', async () => {
    const dir = await tempFolder();
    await expect(locateRunsc({ configuredPath: path.join(dir, 'runsc'), env: { PATH: '' }, cacheDir: dir })).rejects.toThrow(
      /ADO_RUNSC_PATH=.*runsc is not an executable file; fix the path or unset it/,
    );
  });

  it('without it anywhere and without installing, names the ways to get it', async () => {
    const dir = await tempFolder();
    await expect(locateRunsc({ env: { PATH: '' }, cacheDir: dir, install: false })).rejects.toThrow(/run scripts\/setup --sandbox gvisor, or set ADO_RUNSC_PATH/);
    // Installing needs Go: without it on PATH the error says so.
    await expect(locateRunsc({ env: { PATH: path.join(dir, 'empty') }, cacheDir: dir })).rejects.toThrow(/Go is not installed to build it/);
  });
});
