import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_AT, taskStateFixture } from '../../test/fakes/task-state';
import { importedRepo, pushChange, useGitTestFolder } from '../../test/helpers/git-repos';
import type { RepoRef } from '../domain/repo-ref';
import type { TaskExecutionState } from '../domain/task';
import { taskDiff } from './diff';
import { HttpProblem } from './problems';

const workDir = useGitTestFolder('diff');
let ref: RepoRef;
let headSha: string;

beforeAll(async () => {
  ref = await importedRepo(workDir(), 'app', { 'src/index.js': 'module.exports = 1;\n' });
  headSha = await pushChange(workDir(), ref, 'ado/fixture', { 'src/index.js': 'module.exports = 2;\n' });
});

function stateWith(overrides: Partial<TaskExecutionState>): TaskExecutionState {
  return taskStateFixture({
    repository: ref.repository,
    phase: 'coding',
    phaseHistory: [{ phase: 'coding', at: FIXTURE_AT, attempt: 1 }],
    attempts: 1,
    remote: ref.remote,
    baseSha: ref.sha,
    headSha,
    ...overrides,
  });
}

/** The problem `taskDiff` throws for `state`. */
async function problemOf(state: TaskExecutionState): Promise<HttpProblem> {
  const err: unknown = await taskDiff(state).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpProblem);
  return err as HttpProblem;
}

const MISSING = 'deadbeef'.repeat(5);

describe('taskDiff', () => {
  it('diffs base..head in the shared remote', async () => {
    const diff = await taskDiff(stateWith({}));
    expect(diff).toMatchObject({ remote: ref.remote, base: ref.sha, head: headSha, pullRequest: false, truncated: false });
    expect(diff.diff).toContain('+module.exports = 2;');
  });

  it('cuts a diff beyond the bound at a line end and says so', async () => {
    const diff = await taskDiff(stateWith({}), 60);
    expect(diff.truncated).toBe(true);
    expect(diff.diff.length).toBeLessThanOrEqual(60);
    expect(diff.diff.endsWith('\n')).toBe(true);
  });

  it('is a 404 diff-unavailable problem naming the commit missing from the remote', async () => {
    const problem = await problemOf(stateWith({ headSha: MISSING }));
    expect(problem).toMatchObject({ status: 404, kind: 'diff-unavailable' });
    expect(problem.message).toContain(`the head commit ${MISSING} is missing from its remote ${ref.remote}`);
    expect(problem.message).not.toContain('base commit');
  });

  it('names both commits when neither is in the remote', async () => {
    const problem = await problemOf(stateWith({ baseSha: MISSING, headSha: MISSING.replace(/d/g, 'a') }));
    expect(problem).toMatchObject({ status: 404, kind: 'diff-unavailable' });
    expect(problem.message).toMatch(/the base commit deadbeef\w+ and the head commit aeaabeef\w+ are missing/);
  });

  it('is a 404 diff-unavailable problem when the remote is gone', async () => {
    const gone = path.join(workDir(), 'git', 'no-such-remote.git');
    const problem = await problemOf(stateWith({ remote: gone }));
    expect(problem).toMatchObject({ status: 404, kind: 'diff-unavailable' });
    expect(problem.message).toContain(`its remote ${gone} is not on this machine any more`);
  });
});
