/**
 * What an iteration costs besides the model and the gates, on a repository of 20,000 files with a
 * real `npm ci` setup (dependencies from the registry, through the sandbox's egress proxy): the
 * same real activities (git, bubblewrap, the scripted model) on a pool queue, where each one
 * checks out a fresh tree and runs setup (before warm workspaces), and on a workspace queue,
 * where the task's warm tree is reused. The activities run in the SDK's activity context without
 * a server: dispatch is the overhead section's business.
 *   iteration overhead = iteration wall time − model time (a replayed transcript: ~0) − the
 *   execute command's and the gates' own run time (gates run in parallel: the slowest).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { AdoActivities } from '../src/activities/interfaces';
import { taskQueues, workspaceQueue } from '../src/domain/task';
import { DEFAULT_SANDBOX_USER } from '../src/sandbox/ownership';
import { findOverlayTools, overlayCommand, overlayMountOptions, OverlaySupport, withOverlayFolders } from '../src/sandbox/overlay';
import { withWorkspaceCopy } from '../src/sandbox/workspace-copy';
import { git, identityEnv } from '../src/workspace/git';
import { codeAnswer, openRealParts, realActivities, transcript, type RealParts } from '../test/helpers/real-task';
import { atMost, figure, type Figure, type Section } from './report';

const run = promisify(execFile);

const FILES = 20_000;
const ITERATIONS = 2;
const SETUP = 'npm ci --no-audit --no-fund --ignore-scripts';
const EXECUTE = 'node index.js';
/** Small real packages: enough for a real install, quick enough for a bench. */
const DEPENDENCIES = { 'is-number': '7.0.0', ms: '2.1.3', 'escape-string-regexp': '4.0.0' };

/** A repository of `FILES` files with a lockfile for `DEPENDENCIES` (resolved from the registry once). */
async function generateRepository(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const packageJson = { name: 'bench-app', version: '1.0.0', private: true, dependencies: DEPENDENCIES };
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
  await writeFile(path.join(dir, 'index.js'), "module.exports = require('is-number')(1);\n");
  await writeFile(
    path.join(dir, '.ado.yml'),
    [
      `setup: { command: "${SETUP}", network: true, timeout: 5m }`,
      `execute: "${EXECUTE}"`,
      'gates:',
      `  test: "node -e \\"require('is-number'); require('ms'); process.exit(require('fs').readdirSync('gen').length === ${FILES / 100} ? 0 : 1)\\""`,
      `  lint: "node -e \\"require('escape-string-regexp')\\""`,
      '',
    ].join('\n'),
  );
  await generateFiles(path.join(dir, 'gen'), FILES);
  await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
  await git(['init', '--quiet', '--initial-branch=main', dir]);
  await git(['add', '--all'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'generated'], { cwd: dir, env: identityEnv() });
}

/** `count` small modules under `dir`, a hundred per folder. */
async function generateFiles(dir: string, count: number): Promise<void> {
  for (let d = 0; d < count / 100; d++) {
    const folder = path.join(dir, `d${d}`);
    await mkdir(folder, { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(folder, `f${f}.js`), `module.exports = ${d * 100 + f};\n`)));
  }
}

interface ModeResult {
  iterationsMs: number[];
  overheadMs: number[];
  gatesMs: number[];
  setupRuns: number;
  /** Each activity's wall time (its own command's run time included), per iteration. */
  phasesMs: { generate: number[]; execute: number[]; gates: number[] };
}

/** One task's iterations with the activities on a pool queue (cold: a fresh tree each) or a workspace queue (warm). */
async function runMode(parts: RealParts, repository: string, mode: 'cold' | 'warm'): Promise<ModeResult> {
  const answers = transcript(Array.from({ length: ITERATIONS }, (_, i) => codeAnswer(`Iteration ${i + 1}`, [{ type: 'write', path: 'index.js', content: `module.exports = require('is-number')(${i + 2});\n` }])));
  let setups = 0;
  let iteration = 0;
  const commandMs = new Map<number, number>();
  const activities: AdoActivities = await realActivities(parts, `bench-${mode}`, answers, {}, (spec) => {
    if (spec.command === SETUP) setups++;
    // The execute command's own run; the gates report theirs.
    if (spec.command === EXECUTE) return (_result, ms) => commandMs.set(iteration, ms);
    return undefined;
  });
  const taskId = `bench-${mode}`;
  const queue = mode === 'warm' ? workspaceQueue('', 'bench') : taskQueues().code;
  /** Runs `fn` as an activity on `taskQueue` (the queue decides warm or fresh tree). */
  const activity = <I, R>(fn: (input: I) => Promise<R>, input: I, taskQueue = queue): Promise<R> =>
    new MockActivityEnvironment({ taskQueue, activityId: randomUUID() }).run<[I], R, typeof fn>(fn, input);

  const prepared = await activity(activities.prepareWorkspace, { taskId, repository, branch: 'main' }, taskQueues().code);
  let repo = prepared.repo;
  if (mode === 'warm') await activity(activities.acquireWorkspace, { taskId, repo, baseSha: prepared.baseSha }, taskQueues().code);
  const result: ModeResult = { iterationsMs: [], overheadMs: [], gatesMs: [], setupRuns: 0, phasesMs: { generate: [], execute: [], gates: [] } };
  const timed = async <R>(phase: keyof ModeResult['phasesMs'], work: Promise<R>): Promise<R> => {
    const started = performance.now();
    const value = await work;
    result.phasesMs[phase].push(performance.now() - started);
    return value;
  };
  for (iteration = 1; iteration <= ITERATIONS; iteration++) {
    const started = performance.now();
    const generated = await timed('generate', activity(activities.generateCode, {
      taskId,
      prompt: 'bench',
      plan: 'bench',
      subtasks: [],
      previousErrors: [],
      iteration,
      repo,
      taskBranch: prepared.taskBranch,
    }));
    repo = { ...repo, sha: generated.sha };
    const execution = await timed('execute', activity(activities.executeCode, { taskId, repo, baseSha: prepared.baseSha }));
    const gates = await timed('gates', activity(activities.runQualityGates, { taskId, repo, baseSha: prepared.baseSha }));
    const wall = performance.now() - started;
    if (!execution.success || !gates.passed) throw new Error(`bench task failed (${mode}): ${JSON.stringify([execution.error, gates.failures])}`);
    const gatesOwnMs = Math.max(...gates.gates.map((g) => g.durationMs));
    const commandsMs = gatesOwnMs + (commandMs.get(iteration) ?? 0);
    result.iterationsMs.push(wall);
    result.gatesMs.push(gatesOwnMs);
    result.overheadMs.push(wall - commandsMs);
  }
  result.setupRuns = setups;
  if (mode === 'warm') await activity(activities.releaseWorkspace, { taskId });
  return result;
}

interface TreeCosts {
  full: number;
  linked: number;
  /** Undefined where overlays cannot be mounted. */
  overlay: number | undefined;
}

interface PrivateTreeCosts {
  light: TreeCosts;
  heavy: TreeCosts;
}

function privateTreeFigures(what: string, costs: TreeCosts): Figure[] {
  return [
    figure(`gate copy of ${what}, full copy (before)`, costs.full, 'ms'),
    figure(`gate copy of ${what}, installed files linked (before)`, costs.linked, 'ms'),
    ...(costs.overlay === undefined ? [] : [figure(`gate view of ${what}, overlay`, costs.overlay, 'ms')]),
  ];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The `workspace` section: cold against warm on the same generated repository. */
export async function measureWorkspace(): Promise<Section> {
  const parts = await openRealParts();
  try {
    const repository = path.join(parts.work, 'repos', 'bench-20k');
    await generateRepository(repository);
    const cold = await runMode(parts, repository, 'cold');
    const warm = await runMode(parts, repository, 'warm');
    const trees = await privateTreeMs(parts, repository);
    const figures: Figure[] = [
      figure('files in the repository', FILES, ''),
      figure('setup runs per task, before (fresh tree per activity)', cold.setupRuns, ''),
      figure('setup runs per task', warm.setupRuns, '', atMost(1)),
      figure('iteration wall time, before', mean(cold.iterationsMs), 'ms'),
      figure('iteration wall time', mean(warm.iterationsMs), 'ms'),
      figure('iteration overhead, before', mean(cold.overheadMs), 'ms'),
      figure('iteration overhead', mean(warm.overheadMs), 'ms', atMost(1000, ' ms')),
      figure("gates' own run time (slowest gate)", mean(warm.gatesMs), 'ms'),
      figure('generateCode activity (edit, commit, push)', mean(warm.phasesMs.generate), 'ms'),
      figure('executeCode activity', mean(warm.phasesMs.execute), 'ms'),
      figure('runQualityGates activity', mean(warm.phasesMs.gates), 'ms'),
      ...privateTreeFigures('the set-up tree', trees.light),
      ...privateTreeFigures(`the set-up tree with ${FILES} installed files more`, trees.heavy),
    ];
    return {
      name: `workspace: ${ITERATIONS} iterations on ${FILES} files with \`${SETUP}\`, fresh tree per activity (before) vs warm workspace`,
      figures,
      notes: [
        ...(trees.light.overlay === undefined ? ['no overlay views here (they need root and an upper file system that holds one): gates copy'] : []),
        `dependencies: ${Object.entries(DEPENDENCIES).map(([n, v]) => `${n}@${v}`).join(', ')}; model time ~0 (replayed transcript)`,
      ],
    };
  } finally {
    await parts.close();
  }
}

/**
 * Cost of one gate's private tree of a set-up tree (checkout + node_modules), made and removed as
 * the gates make it: a full copy and a copy with the installed folder hard-linked (before), and an
 * overlay view (its folders, and a mount in a namespace of its own, as a gate's run makes it, with
 * `true` in place of the sandbox); then the same with `FILES` more files in node_modules, as a
 * project with real dependencies has. The overlay needs root (as does linking): elsewhere gates
 * copy, and the overlay figures say n/a.
 */
async function privateTreeMs(parts: RealParts, repository: string): Promise<PrivateTreeCosts> {
  const tree = path.join(parts.work, 'copy-probe');
  await git(['clone', '--quiet', repository, tree]);
  await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: tree });
  const linkable = process.getuid?.() === 0 ? ['node_modules'] : [];
  const tools = findOverlayTools(process.env.PATH);
  const overlays = await new OverlaySupport(tools).usable(tree);
  const timed = async (make: () => Promise<unknown>) => {
    const started = performance.now();
    await make();
    return performance.now() - started;
  };
  const copy = (options: { linkable?: string[] }) => timed(() => withWorkspaceCopy(tree, 'probe', async () => undefined, options));
  const view = () =>
    overlays && tools
      ? timed(() =>
          withOverlayFolders(tree, 'probe', async (folders) => {
            const { file, args } = overlayCommand(tools, overlayMountOptions(tree, folders), folders.merged, DEFAULT_SANDBOX_USER, '/bin/true', []);
            await run(file, args);
          }),
        )
      : Promise.resolve(undefined);
  const light = { full: await copy({}), linked: await copy({ linkable }), overlay: await view() };
  await generateFiles(path.join(tree, 'node_modules', 'installed'), FILES);
  return { light, heavy: { full: await copy({}), linked: await copy({ linkable }), overlay: await view() } };
}
