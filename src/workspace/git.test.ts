import { appendFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeDirs, tempDir } from '../../test/helpers/git-repos';
import { git, gitInvocation } from './git';

/** A fresh repository with its git directory named the way workspaces name theirs (GIT_DIR). */
async function repository(): Promise<{ at: { env: Record<string, string> }; config: string; dir: string }> {
  const dir = await tempDir('git-overrides');
  await git(['init', '--quiet', dir]);
  const gitDir = path.join(dir, '.git');
  return { at: { env: { GIT_DIR: gitDir, GIT_WORK_TREE: dir } }, config: path.join(gitDir, 'config'), dir };
}

describe('git calls on a repository whose config names commands', () => {
  it('empties a command the config gained since the last call on the same git directory', async () => {
    const { at, config, dir } = await repository();
    try {
      expect((await gitInvocation(['status'], at)).args).not.toContain('core.pager=');
      // What a sandboxed command or an edit that reached the git directory could write.
      await appendFile(config, '[core]\n\tpager = touch /tmp/ado-pager-ran\n');
      expect((await gitInvocation(['status'], at)).args).toContain('core.pager=');
      await writeFile(config, '[core]\n\tbare = false\n');
      expect((await gitInvocation(['status'], at)).args).not.toContain('core.pager=');
    } finally {
      await removeDirs(dir);
    }
  });

  it('sees a command an included file gains, though the config itself did not change', async () => {
    const { at, config, dir } = await repository();
    const included = path.join(dir, 'included.cfg');
    try {
      await writeFile(included, '[core]\n\tbare = false\n');
      await appendFile(config, `[include]\n\tpath = ${included}\n`);
      expect((await gitInvocation(['status'], at)).args).not.toContain('credential.helper=');
      await writeFile(included, '[credential]\n\thelper = !touch /tmp/ado-helper-ran\n');
      expect((await gitInvocation(['status'], at)).args).toContain('credential.helper=');
    } finally {
      await removeDirs(dir);
    }
  });

  it('sees a command in config git reads through a symlink or a commondir, which a stamp cannot follow', async () => {
    const { at, config, dir } = await repository();
    try {
      // Resolved from git's working folder, not the caller's: the caller's stat sees nothing.
      await writeFile(path.join(dir, 'x.cfg'), '[core]\n\tbare = false\n');
      await rm(config);
      await symlink('/proc/self/cwd/x.cfg', config);
      const inTree = { ...at, cwd: dir };
      expect((await gitInvocation(['status'], inTree)).args).not.toContain('core.pager=');
      await writeFile(path.join(dir, 'x.cfg'), '[core]\n\tpager = touch /tmp/ado-pager-ran\n');
      expect((await gitInvocation(['status'], inTree)).args).toContain('core.pager=');

      await rm(config);
      await writeFile(config, '[core]\n\tbare = false\n');
      await git(['init', '--quiet', '--bare', path.join(dir, 'common')]);
      await writeFile(path.join(dir, '.git', 'commondir'), path.join(dir, 'common'));
      expect((await gitInvocation(['status'], at)).args).not.toContain('credential.helper=');
      await appendFile(path.join(dir, 'common', 'config'), '[credential]\n\thelper = !touch /tmp/ado-helper-ran\n');
      expect((await gitInvocation(['status'], at)).args).toContain('credential.helper=');
    } finally {
      await removeDirs(dir);
    }
  });
});
