import { describe, expect, it } from 'vitest';
import { sensitiveKind } from './sensitive-changes';

describe('sensitiveKind', () => {
  it('names what each kind of file decides', () => {
    expect(
      Object.fromEntries(
        [
          '.ado.yml',
          '.github/workflows/ci.yml',
          '.gitlab-ci.yml',
          'services/api/package-lock.json',
          'poetry.lock',
          'package.json',
          'pyproject.toml',
          'Makefile',
          'jest.config.ts',
          'tests/conftest.py',
          'tsconfig.build.json',
          '.npmrc',
          '.cargo/config.toml',
          '.gitattributes',
          '.husky/pre-commit',
        ].map((file) => [file, sensitiveKind(file)]),
      ),
    ).toEqual({
      '.ado.yml': 'ADO configuration',
      '.github/workflows/ci.yml': 'CI',
      '.gitlab-ci.yml': 'CI',
      'services/api/package-lock.json': 'lockfile',
      'poetry.lock': 'lockfile',
      'package.json': 'manifest and build scripts',
      'pyproject.toml': 'manifest and build scripts',
      Makefile: 'manifest and build scripts',
      'jest.config.ts': 'test and lint configuration',
      'tests/conftest.py': 'test and lint configuration',
      'tsconfig.build.json': 'test and lint configuration',
      '.npmrc': 'package manager configuration',
      '.cargo/config.toml': 'package manager configuration',
      '.gitattributes': 'git configuration and hooks',
      '.husky/pre-commit': 'git configuration and hooks',
    });
  });

  it('leaves ordinary code and docs alone', () => {
    for (const file of ['src/app.ts', 'README.md', 'docs/config.md', 'test/app.test.ts', 'lib/package.py', 'config.toml']) expect(sensitiveKind(file), file).toBeUndefined();
  });
});
