import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { loadRepoConfig } from './config';

/** The config of a repository holding `files` (path → content) at its root. */
const load = (files: Record<string, string>) => loadRepoConfig(async (name) => files[name] ?? null);

async function configError(files: Record<string, string>): Promise<AdoError> {
  const err = await load(files).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AdoError);
  expect(err).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
  return err as AdoError;
}

describe('loadRepoConfig from .ado.yml / ado.config.json', () => {
  it('resolves commands in both forms, timeouts, setup network and limits from .ado.yml', async () => {
    const files = {
      '.ado.yml': [
        'setup: { command: npm ci, network: true, timeout: 10m }',
        'execute: node index.js',
        'gates:',
        '  typecheck: npx tsc --noEmit',
        '  test:',
        '    command: npm test',
        '    timeout: 1h30m',
        '  build: { command: npm run build, timeout: 90 }',
        'limits: { timeout: 5m, cpu: 2m, memory: 2g, processes: 64, output: 512k, disk: 1g }',
      ].join('\n'),
      'package.json': '{"scripts":{"lint":"eslint ."}}',
    };

    expect(await load(files)).toEqual({
      source: '.ado.yml',
      setup: { command: 'npm ci', network: true, timeoutMs: 600_000 },
      execute: { command: 'node index.js', network: false },
      gates: {
        typecheck: { command: 'npx tsc --noEmit', network: false },
        test: { command: 'npm test', network: false, timeoutMs: 5_400_000 },
        build: { command: 'npm run build', network: false, timeoutMs: 90_000 },
      },
      limits: { wallTimeMs: 300_000, cpuTimeSec: 120, memoryBytes: 2 * 1024 ** 3, maxProcesses: 64, maxOutputBytes: 512 * 1024, diskBytes: 1024 ** 3 },
      packageScripts: { lint: 'eslint .' },
    });
  });

  it('reads ado.config.json the same way', async () => {
    expect(await load({ 'ado.config.json': JSON.stringify({ gates: { lint: { command: 'ruff check .', timeout: '30s' } } }) })).toEqual({
      source: 'ado.config.json',
      gates: { lint: { command: 'ruff check .', network: false, timeoutMs: 30_000 } },
      limits: {},
      packageScripts: {},
    });
  });

  it('treats an empty .ado.yml as a config that runs nothing', async () => {
    expect(await load({ '.ado.yml': '', 'package.json': '{"scripts":{"test":"vitest"}}' })).toEqual({
      source: '.ado.yml',
      gates: {},
      limits: {},
      packageScripts: { test: 'vitest' },
    });
  });

  it('takes no scripts from a package.json it cannot read when the config file names the commands', async () => {
    expect(await load({ '.ado.yml': 'gates: { test: make test }', 'package.json': '{"scripts":' })).toMatchObject({ source: '.ado.yml', packageScripts: {} });
  });

  it('names the file and field of a bad duration', async () => {
    const err = await configError({ '.ado.yml': 'gates:\n  test: { command: npm test, timeout: soon }\n' });
    expect(err.message).toBe('.ado.yml: gates.test.timeout: expected a duration like "5m", "90s" or a number of seconds');
  });

  it('allows network for setup only', async () => {
    const err = await configError({ 'ado.config.json': '{"gates":{"lint":{"command":"eslint .","network":true}}}' });
    expect(err.message).toBe('ado.config.json: gates.lint.network: network access is allowed for setup only');
  });

  it('rejects unknown fields, wrong types and empty commands, one line each', async () => {
    const err = await configError({ '.ado.yml': 'gate:\n  test: x\nexecute: 5\nsetup: ""\nlimits: { memory: lots }\n' });
    expect(err.message.split('\n').sort()).toEqual([
      '.ado.yml: execute: expected a command string or { command, timeout }',
      '.ado.yml: gate: unknown field',
      '.ado.yml: limits.memory: expected a size like "512m", "2g" or a number of bytes',
      '.ado.yml: setup.command: must not be empty',
    ]);
  });

  it('reports YAML and JSON syntax errors with the file name', async () => {
    expect((await configError({ '.ado.yml': 'gates: [unclosed\n' })).message).toMatch(/^\.ado\.yml: not valid YAML: /);
    expect((await configError({ 'ado.config.json': '{"gates":' })).message).toMatch(/^ado\.config\.json: not valid JSON: /);
  });

  it('refuses two config files at once', async () => {
    const err = await configError({ '.ado.yml': 'gates: {}\n', 'ado.config.json': '{}' });
    expect(err.message).toBe('Both .ado.yml and ado.config.json exist; keep one of them');
  });
});

describe('loadRepoConfig inferred from the manifest', () => {
  it('takes gates from package.json scripts and sets up with npm ci when there is a lockfile', async () => {
    const scripts = { 'type-check': 'tsc --noEmit', lint: 'eslint .', test: 'vitest run', build: 'tsc', start: 'node .' };
    const files = { 'package.json': JSON.stringify({ scripts, devDependencies: { typescript: '5.9.3' } }), 'package-lock.json': '{}' };
    expect(await load(files)).toEqual({
      source: 'package.json',
      setup: { command: 'npm ci', network: true },
      gates: {
        typecheck: { command: 'npm run type-check', network: false },
        lint: { command: 'npm run lint', network: false },
        test: { command: 'npm test', network: false },
        build: { command: 'npm run build', network: false },
      },
      limits: {},
      packageScripts: scripts,
    });
  });

  it('uses npm install without a lockfile, skips npm’s placeholder test script, and needs no setup without dependencies', async () => {
    const scripts = { test: 'echo "Error: no test specified" && exit 1', tsc: 'tsc' };
    expect(await load({ 'package.json': JSON.stringify({ scripts, dependencies: { zod: '4.0.0' } }) })).toEqual({
      source: 'package.json',
      setup: { command: 'npm install', network: true },
      gates: { typecheck: { command: 'npm run tsc', network: false } },
      limits: {},
      packageScripts: scripts,
    });

    expect((await load({ 'package.json': JSON.stringify({ scripts: { lint: 'eslint .' } }) })).setup).toBeUndefined();
  });

  it('takes gates from Makefile targets when there is no package.json', async () => {
    expect(await load({ Makefile: 'CC := gcc\nbuild: main.o\n\tcc main.o\ntest: build\n\t./run-tests\nclean:\n\trm -f *.o\n' })).toEqual({
      source: 'Makefile',
      gates: { build: { command: 'make build', network: false }, test: { command: 'make test', network: false } },
      limits: {},
      packageScripts: {},
    });
  });

  it('says when there is nothing to go by', async () => {
    expect(await load({ 'README.md': '# hi\n' })).toEqual({ source: 'none', gates: {}, limits: {}, packageScripts: {} });
  });
});
