// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/**
 * The folders of src/ from the bottom up: each imports only folders listed before it, so every
 * arrow between folders points down (docs/architecture.md draws them). Tests import freely.
 */
const LAYERS = [
  // The task's vocabulary: pure types, constants and functions the workflow bundle can hold.
  'domain',
  // What every backend may use.
  'config',
  'telemetry',
  // Backends: what activities (and faces) are built from.
  'temporal',
  'codec',
  'store',
  'llm',
  'sandbox',
  'workspace',
  'git-server',
  'gates',
  // The coding agent's tools, conversation and repository map.
  'agent',
  'pr',
  'notifications',
  // Orchestration.
  'workflows',
  'activities',
  'client',
  'worker',
  // Faces: what people and other programs talk to.
  'api',
  'dev',
  'topology',
  'demo',
  'cli',
  'console',
];

/** Replayed code: no Node built-ins or ambient I/O, and values only from domain/. */
const DETERMINISTIC = ['domain', 'workflows'];

/** The import rules of every folder of src/: its layer, and determinism where it is replayed. */
function layerRules() {
  return LAYERS.flatMap((folder) =>
    // Relative imports climb out of the folder with one `../` per level: one block per depth.
    [1, 2, 3].map((depth) => ({
      files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
      ignores: ['**/*.test.ts'],
      rules: {
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            paths: DETERMINISTIC.includes(folder) ? nodeBuiltins.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins.' })) : [],
            patterns: layerPatterns(folder, '\\.\\./'.repeat(depth)),
          },
        ],
        ...(DETERMINISTIC.includes(folder) ? { 'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch', 'require', 'Buffer'] } : {}),
      },
    })),
  );
}

/** `no-restricted-imports` patterns for a file of `folder` whose imports reach src/ through `up`. */
function layerPatterns(folder, up) {
  const index = LAYERS.indexOf(folder);
  const below = LAYERS.slice(0, index);
  const above = LAYERS.slice(index + 1);
  const into = (folders) => `^${up}(${folders.join('|')})(/|$)`;
  const layered = `Imports point down the layers: src/${folder}/ may not import a folder above it (LAYERS in eslint.config.mjs, drawn in docs/architecture.md).`;
  if (folder !== 'workflows') return above.length ? [{ regex: into(above), caseSensitive: true, message: layered }] : [];
  return [
    { regex: into(above.filter((f) => f !== 'activities')), caseSensitive: true, message: layered },
    { regex: `^${up}activities(?!/interfaces$)(/|$)`, caseSensitive: true, message: 'Workflow code imports activity types from activities/interfaces only.' },
    {
      // One pattern that allows a type import overrides the others: this one names the allowed modules exactly.
      regex: `^${up}((${below.filter((f) => f !== 'domain').join('|')})(/|$)|activities/interfaces$)`,
      caseSensitive: true,
      allowTypeImports: true,
      message: 'Workflow code is deterministic: values from domain/ only, anything else as `import type`.',
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.ado/**', 'test-artifacts/**', 'examples/**', 'src/console/assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
    },
  },
  ...layerRules(),
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='AdoError'] > ObjectExpression > Property[key.name='nonRetryable']",
          message: 'Build a non-retryable error with nonRetryable(type, message, { cause, details }) from src/domain/errors.ts.',
        },
      ],
    },
  },
  {
    files: ['bin/*.js', '*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
