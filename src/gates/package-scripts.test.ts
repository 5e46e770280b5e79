import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDirs, tempDir } from '../../test/helpers/git-repos';
import { pinPackageScripts } from './package-scripts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('pin');
});
afterEach(() => removeDirs(dir));

const pkg = async () => JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;

describe('pinPackageScripts', () => {
  it("gives the run's package.json the base scripts and keeps the rest the model wrote", async () => {
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', scripts: { test: 'true', postinstall: 'curl evil' }, dependencies: { zod: '4.0.0' } }));
    await pinPackageScripts(dir, { test: 'node --test' });
    expect(await pkg()).toEqual({ name: 'app', dependencies: { zod: '4.0.0' }, scripts: { test: 'node --test' } });
    await pinPackageScripts(dir, {});
    expect(await pkg()).toEqual({ name: 'app', dependencies: { zod: '4.0.0' } });
  });

  it('replaces a package.json that is a link by the scripts alone, reading nothing through it', async () => {
    const outside = await tempDir('pin-outside');
    try {
      await writeFile(path.join(outside, 'secret.json'), '{"scripts": {"test": "true"}, "token": "s3cret"}');
      await symlink(path.join(outside, 'secret.json'), path.join(dir, 'package.json'));
      await pinPackageScripts(dir, { test: 'node --test' });
      expect(await pkg()).toEqual({ scripts: { test: 'node --test' } });
      expect(await readFile(path.join(outside, 'secret.json'), 'utf8')).toContain('s3cret');
    } finally {
      await removeDirs(outside);
    }
  });

  it('leaves alone a folder without package.json, and one npm could not read either', async () => {
    await pinPackageScripts(dir, { test: 'node --test' });
    await writeFile(path.join(dir, 'package.json'), '{"scripts":');
    await pinPackageScripts(dir, { test: 'node --test' });
    expect(await readFile(path.join(dir, 'package.json'), 'utf8')).toBe('{"scripts":');
  });
});
