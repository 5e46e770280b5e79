import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempWorkspace } from '../../test/sandbox/helpers';
import { DEFAULT_SUMMARY_LINES, MAX_SUMMARY_CHARS, summarizeFailure } from './failure-summary';

const execFileAsync = promisify(execFile);

// Outputs captured from the real tools (npm 11, node 20, tsc 5.9, eslint 9), paths as the sandbox shows them.
const NPM_NODE_TEST_TAP = `
> demo-app@1.0.0 test
> node --test

TAP version 13
# Subtest: adds two numbers
not ok 1 - adds two numbers
  ---
  duration_ms: 4.751092
  location: '/workspace/test/sum.test.js:4:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:
    
    -1 !== 5
    
  code: 'ERR_ASSERTION'
  name: 'AssertionError'
  expected: 5
  actual: -1
  operator: 'strictEqual'
  stack: |-
    TestContext.<anonymous> (/workspace/test/sum.test.js:4:41)
    Test.runInAsyncScope (node:async_hooks:206:9)
    Test.run (node:internal/test_runner/test:796:25)
    Test.processPendingSubtests (node:internal/test_runner/test:526:18)
    node:internal/test_runner/harness:255:12
    node:internal/process/task_queues:140:7
    AsyncResource.runInAsyncScope (node:async_hooks:206:9)
    AsyncResource.runMicrotask (node:internal/process/task_queues:137:8)
  ...
# Subtest: adds negatives
not ok 2 - adds negatives
  ---
  duration_ms: 0.42122
  location: '/workspace/test/sum.test.js:5:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:
    
    1 !== -5
    
  code: 'ERR_ASSERTION'
  name: 'AssertionError'
  expected: -5
  actual: 1
  operator: 'strictEqual'
  stack: |-
    TestContext.<anonymous> (/workspace/test/sum.test.js:5:39)
    Test.runInAsyncScope (node:async_hooks:206:9)
    Test.run (node:internal/test_runner/test:796:25)
    Test.processPendingSubtests (node:internal/test_runner/test:526:18)
    Test.postRun (node:internal/test_runner/test:889:19)
    Test.run (node:internal/test_runner/test:835:12)
    async Test.processPendingSubtests (node:internal/test_runner/test:526:7)
  ...
1..2
# tests 2
# suites 0
# pass 0
# fail 2
# cancelled 0
# skipped 0
# todo 0
# duration_ms 211.73244
`;

const NODE_TEST_SPEC = `✖ adds two numbers (8.984393ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
  
  -1 !== 5
  
      at TestContext.<anonymous> (/workspace/test/sum.test.js:4:41)
      at Test.runInAsyncScope (node:async_hooks:206:9)
      at Test.run (node:internal/test_runner/test:796:25)
      at Test.processPendingSubtests (node:internal/test_runner/test:526:18)
      at node:internal/test_runner/harness:255:12
      at node:internal/process/task_queues:140:7
      at AsyncResource.runInAsyncScope (node:async_hooks:206:9)
      at AsyncResource.runMicrotask (node:internal/process/task_queues:137:8) {
    generatedMessage: true,
    code: 'ERR_ASSERTION',
    actual: -1,
    expected: 5,
    operator: 'strictEqual'
  }

✖ adds negatives (0.560742ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
  
  1 !== -5
  
      at TestContext.<anonymous> (/workspace/test/sum.test.js:5:39)
      at Test.runInAsyncScope (node:async_hooks:206:9)
      at Test.run (node:internal/test_runner/test:796:25)
      at Test.processPendingSubtests (node:internal/test_runner/test:526:18)
      at Test.postRun (node:internal/test_runner/test:889:19)
      at Test.run (node:internal/test_runner/test:835:12)
      at async Test.processPendingSubtests (node:internal/test_runner/test:526:7) {
    generatedMessage: true,
    code: 'ERR_ASSERTION',
    actual: 1,
    expected: -5,
    operator: 'strictEqual'
  }

ℹ tests 2
ℹ suites 0
ℹ pass 0
ℹ fail 2
ℹ cancelled 0
ℹ skipped 0
ℹ todo 0
ℹ duration_ms 332.210861

✖ failing tests:

test at test/sum.test.js:4:1
✖ adds two numbers (8.984393ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
  
  -1 !== 5
  
      at TestContext.<anonymous> (/workspace/test/sum.test.js:4:41)
      at Test.runInAsyncScope (node:async_hooks:206:9)
      at Test.run (node:internal/test_runner/test:796:25)
      at Test.processPendingSubtests (node:internal/test_runner/test:526:18)
      at node:internal/test_runner/harness:255:12
      at node:internal/process/task_queues:140:7
      at AsyncResource.runInAsyncScope (node:async_hooks:206:9)
      at AsyncResource.runMicrotask (node:internal/process/task_queues:137:8) {
    generatedMessage: true,
    code: 'ERR_ASSERTION',
    actual: -1,
    expected: 5,
    operator: 'strictEqual'
  }

test at test/sum.test.js:5:1
✖ adds negatives (0.560742ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:
  
  1 !== -5
  
      at TestContext.<anonymous> (/workspace/test/sum.test.js:5:39)
      at Test.runInAsyncScope (node:async_hooks:206:9)
      at Test.run (node:internal/test_runner/test:796:25)
      at Test.processPendingSubtests (node:internal/test_runner/test:526:18)
      at Test.postRun (node:internal/test_runner/test:889:19)
      at Test.run (node:internal/test_runner/test:835:12)
      at async Test.processPendingSubtests (node:internal/test_runner/test:526:7) {
    generatedMessage: true,
    code: 'ERR_ASSERTION',
    actual: 1,
    expected: -5,
    operator: 'strictEqual'
  }
`;

const TSC = `src/a.ts(2,3): error TS2322: Type 'number' is not assignable to type 'string'.
src/a.ts(4,7): error TS2322: Type 'string' is not assignable to type 'number'.
src/a.ts(5,13): error TS2552: Cannot find name 'undefinedVar'. Did you mean 'undefined'?
`;

const NPM_ESLINT = `
> demo-app@1.0.0 lint
> eslint src


/workspace/src/b.js
  1:7   error    'unused' is assigned a value but never used  no-unused-vars
  1:17  warning  Missing semicolon                            semi
  2:23  error    'undefinedThing' is not defined              no-undef

✖ 3 problems (2 errors, 1 warning)
  0 errors and 1 warning potentially fixable with the \`--fix\` option.

`;

const NPM_MISSING_SCRIPT = `npm error Missing script: "missing"
npm error
npm error To see a list of scripts, run:
npm error   npm run
npm error A complete log of this run can be found in: /tmp/.npm/_logs/2026-11-25T18_42_34_582Z-debug-0.log
`;

/** npm 6 wrapped failures in a block of its own. */
const NPM6_NOISE = `npm ERR! code ELIFECYCLE
npm ERR! errno 1
npm ERR! demo-app@1.0.0 test: \`node --test\`
npm ERR! Exit status 1
npm ERR!
npm ERR! Failed at the demo-app@1.0.0 test script.
npm ERR! This is probably not a problem with npm. There is likely additional logging output above.

npm ERR! A complete log of this run can be found in:
npm ERR!     /tmp/.npm/_logs/2026-11-25T18_42_34_582Z-debug.log
`;

describe('summarizeFailure', () => {
  it('keeps the failed node --test cases with their assertions, without npm banners or TAP bookkeeping', () => {
    const summary = summarizeFailure(NPM_NODE_TEST_TAP);
    expect(summary.split('\n')[0]).toBe('not ok 1 - adds two numbers');
    expect(summary).toContain("location: '/workspace/test/sum.test.js:4:1'");
    expect(summary).toContain('-1 !== 5');
    expect(summary).toContain('not ok 2 - adds negatives');
    expect(summary).toContain('1 !== -5');
    expect(summary).toContain('TestContext.<anonymous> (/workspace/test/sum.test.js:4:41)');
    for (const noise of ['> demo-app@1.0.0 test', '> node --test', 'TAP version', 'duration_ms', 'node:internal', 'node:async_hooks', '# pass 0', '\n\n']) {
      expect(summary).not.toContain(noise);
    }
  });

  it('keeps each failure of the spec reporter once, without its recap or runtime frames', () => {
    const summary = summarizeFailure(NODE_TEST_SPEC);
    expect(summary.match(/✖ adds two numbers/g)).toHaveLength(1);
    expect(summary.match(/✖ adds negatives/g)).toHaveLength(1);
    expect(summary).toContain('at TestContext.<anonymous> (/workspace/test/sum.test.js:5:39)');
    expect(summary).not.toContain('at Test.run');
    expect(summary).not.toContain('ℹ tests 2');
    expect(summary).not.toContain('failing tests:');
  });

  it('keeps every tsc error as it is', () => {
    expect(summarizeFailure(TSC)).toBe(TSC.trim());
  });

  it('keeps eslint findings under their file, without the npm banner', () => {
    const summary = summarizeFailure(NPM_ESLINT);
    expect(summary.split('\n').slice(0, 3)).toEqual([
      '/workspace/src/b.js',
      "  1:7   error    'unused' is assigned a value but never used  no-unused-vars",
      '  1:17  warning  Missing semicolon                            semi',
    ]);
    expect(summary).toContain('✖ 3 problems (2 errors, 1 warning)');
    expect(summary).not.toContain('> demo-app@1.0.0 lint');
    expect(summary).not.toContain('> eslint src');
  });

  it("keeps npm's own error and drops its log hints, old and new", () => {
    const summary = summarizeFailure(NPM_MISSING_SCRIPT);
    expect(summary).toContain('npm error Missing script: "missing"');
    expect(summary).not.toContain('A complete log');
    expect(summarizeFailure(TSC + NPM6_NOISE)).toBe(TSC.trim());
  });

  it('finds the failure in long output and stays within the line and character caps', () => {
    const passing = Array.from({ length: 500 }, (_, i) => `ok ${i + 1} - case ${i + 1} works as documented in the handbook`);
    const failing = ['not ok 501 - parses dates', '  error: Expected "2024-01-01" but got "2024-01-02"', '  at parse (/workspace/src/date.js:12:7)'];
    const trailing = Array.from({ length: 200 }, (_, i) => `  at frame${i} (/workspace/src/deep${i}.js:${i}:1)`);
    const summary = summarizeFailure([...passing.slice(0, 250), ...failing, ...passing.slice(250), ...trailing].join('\n'));
    expect(summary.split('\n')[0]).toBe('not ok 501 - parses dates');
    expect(summary).toContain('Expected "2024-01-01" but got "2024-01-02"');
    expect(summary).not.toMatch(/^ok \d+/m);
    expect(summary.split('\n').length).toBeLessThanOrEqual(DEFAULT_SUMMARY_LINES + 1);
    expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS + 40);
  });

  it('caps a flood of errors and says how many lines it left out', () => {
    const errors = Array.from({ length: 100 }, (_, i) => `src/file${i}.ts(${i + 1},1): error TS2304: Cannot find name 'x${i}'.`);
    const summary = summarizeFailure(errors.join('\n'), 10);
    const lines = summary.split('\n');
    expect(lines.slice(0, 10)).toEqual(errors.slice(0, 10));
    expect(lines[10]).toBe('… (90 more lines)');
  });

  it('removes colours and keeps what a progress line ended with', () => {
    const summary = summarizeFailure('\u001b[31m✖ 1 problem\u001b[39m\r\nbuilding 10%\rbuilding 100%\n');
    expect(summary).toBe('✖ 1 problem\nbuilding 100%');
  });

  it('summarises output that names no error by its end', () => {
    const steps = Array.from({ length: 100 }, (_, i) => `step ${i + 1}`);
    const summary = summarizeFailure(steps.join('\n'));
    expect(summary.split('\n').at(-1)).toBe('step 100');
    expect(summary).not.toContain('step 1\n');
  });

  it('is empty when the output says nothing', () => {
    expect(summarizeFailure('\n\n   \n')).toBe('');
  });

  it('summarises the failure of a real node --test run', async () => {
    const dir = await tempWorkspace({
      'sum.test.js':
        "const test = require('node:test'); const assert = require('node:assert');\n" +
        "test('adds', () => { assert.strictEqual(2 - 3, 5); });\n",
    });
    const failed = await execFileAsync(process.execPath, ['--test'], { cwd: dir }).then(
      () => '',
      (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
    );
    const summary = summarizeFailure(failed);
    expect(summary).toMatch(/adds/);
    expect(summary).toContain('-1 !== 5');
    expect(summary).not.toContain('node:internal');
  });
});
