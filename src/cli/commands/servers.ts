/** `ado dev | worker | demo`: running ADO's processes. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { connectWorkers } from '../../client/connection';
import { adoHome } from '../../config/paths';
import { runDemo } from '../../demo/demo';
import { startEmbeddedStack } from '../../dev/stack';
import type { Logger } from '../../telemetry/logger';
import { startWorkers } from '../../worker/run';
import { llmFromEnv, openSharedParts, wireActivities } from '../../worker/wiring';
import { DEFAULT_WORKER_TUNING, WORKER_POOLS, type WorkerPoolChoice } from '../../worker/workers';
import type { CliContext } from '../context';
import { followLines, printJson, printLine } from '../output';
import { positiveInt } from './tasks';

const env = process.env;
const DEFAULT_PORT = Number(env.ADO_TEMPORAL_PORT ?? 7233);
const DEFAULT_UI_PORT = Number(env.ADO_TEMPORAL_UI_PORT ?? 8233);

export function registerServerCommands(program: Command, ctx: CliContext): void {
  program
    .command('dev')
    .description('run the embedded stack: Temporal dev server (SQLite under .ado/), Web UI, ADO store and an all-in-one worker')
    .option('--port <n>', 'Temporal gRPC port (ADO_TEMPORAL_PORT)', port, DEFAULT_PORT)
    .option('--ui-port <n>', 'Temporal Web UI port (ADO_TEMPORAL_UI_PORT)', port, DEFAULT_UI_PORT)
    .option('--namespace <name>', 'namespace to create and use', 'default')
    .option('--no-worker', 'start the server only (run workers with `ado worker`)')
    .action(async (opts: { port: number; uiPort: number; namespace: string; worker: boolean }) => {
      const logger = ctx.logger;
      const stack = await startEmbeddedStack({
        home: adoHome(env),
        env,
        logger,
        port: opts.port,
        uiPort: opts.uiPort,
        namespace: opts.namespace,
        workers: opts.worker,
        say: (line) => printLine(line),
      });
      printLine('');
      printLine(`ADO is running.`);
      printLine(`  Temporal gRPC:  ${stack.settings.address} (namespace ${stack.settings.namespace})`);
      printLine(`  Temporal UI:    ${stack.uiUrl}`);
      printLine(`  workers:        ${opts.worker ? `every pool; LLM: ${stack.llmDescription}` : 'none (start them with `ado worker`)'}`);
      if (stack.llmProblem) printLine(`  LLM not configured — tasks will fail at planning until you set it:\n    ${stack.llmProblem.replace(/\n/g, '\n    ')}`);
      printLine(`  try:            ado demo   (offline, recorded model answers)`);
      printLine(`Press Ctrl-C to stop everything started here.`);
      await untilSignal();
      printLine('Stopping…');
      await stack.stop();
    });

  program
    .command('worker')
    .description('run a worker pool against the configured Temporal server (TEMPORAL_ADDRESS…)')
    .addOption(new Option('--pool <pool>', 'which activities (and, for task/all, the workflow) to serve').choices(WORKER_POOLS).default('all'))
    .option('--max-concurrent-activities <n>', 'activities run at once per pool', positiveInt, DEFAULT_WORKER_TUNING.maxConcurrentActivityExecutions)
    .option('--max-concurrent-workflow-tasks <n>', 'workflow tasks run at once', positiveInt, DEFAULT_WORKER_TUNING.maxConcurrentWorkflowTaskExecutions)
    .action(async (opts: { pool: WorkerPoolChoice; maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number }) => {
      const logger = ctx.logger;
      const settings = ctx.settings();
      const parts = await openSharedParts({ env, home: adoHome(env), logger });
      try {
        const llm = llmFromEnv(env, logger);
        if (llm.problem && opts.pool !== 'review') logger.warn(llm.problem);
        const workers = await startWorkers({
          connection: await connectWorkers(settings),
          namespace: settings.namespace,
          pool: opts.pool,
          activities: wireActivities(parts, llm.llm, env),
          queuePrefix: ctx.queuePrefix(),
          maxConcurrentActivityExecutions: opts.maxConcurrentActivities,
          maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks,
        });
        logger.info({ pool: opts.pool, address: settings.address, namespace: settings.namespace, llm: llm.description }, 'Worker running');
        await Promise.race([untilSignal(), workers.done]);
        await workers.shutdown();
      } finally {
        await parts.store.close();
      }
    });

  program
    .command('demo')
    .description('run a whole task offline on a sample repository (recorded model answers), on the running stack or a new one')
    .option('--hitl', 'pause at plan and PR for your approval (run the printed `ado approve` in another terminal)', false)
    .option('--port <n>', 'Temporal gRPC port when a stack must be started', port, DEFAULT_PORT)
    .option('--ui-port <n>', 'Temporal Web UI port when a stack must be started', port, DEFAULT_UI_PORT)
    .option('--json', 'print the result as JSON', false)
    .action(async (opts: { hitl: boolean; port: number; uiPort: number; json: boolean }) => {
      const say = opts.json ? () => {} : (line: string) => printLine(line);
      const result = await runDemo({
        home: adoHome(env),
        env,
        logger: quieter(ctx.logger),
        hitl: opts.hitl,
        port: opts.port,
        uiPort: opts.uiPort,
        say,
        // Approvals come from another terminal in this folder, where `npx ado` finds the CLI.
        onEvent: (event) => say(followLines(event, 'npx ado')),
      });
      if (opts.json) printJson(result);
      else {
        const { state } = result;
        const pr = state.pullRequest;
        printLine('');
        printLine(`Task ${result.taskId} ${result.outcome.message}`);
        if (pr) {
          printLine(`Pull request ${pr.url}${pr.merged ? ' (merged)' : ''}: ${pr.headBranch} → ${pr.baseBranch} in ${state.remote}`);
          if (pr.stats) printLine(`  ${pr.stats.commits} commit(s), ${pr.stats.filesChanged} file(s) changed, +${pr.stats.insertions} -${pr.stats.deletions}`);
          for (const commit of result.commits) printLine(`  ${commit}`);
          for (const line of result.diffStat.split('\n')) printLine(`  ${line.trim()}`);
        }
        printLine(`Iterations: ${state.attempts} (${state.errors.length} failure(s) fed back to the model)`);
        for (const e of state.errors) printLine(`  iteration ${e.iteration}, ${e.tool}: ${e.message.split('\n')[0]}`);
        printLine(`Tokens: ${state.usage.totalTokens} (prompt ${state.usage.promptTokens}, completion ${state.usage.completionTokens})`);
        if (result.workflowUrl) printLine(`Temporal UI: ${result.workflowUrl}`);
      }
      if (!result.outcome.ok) process.exitCode = 1;
    });
}

/** The demo's own output tells the story: logs only for warnings, unless ADO_LOG_LEVEL says otherwise. */
function quieter(logger: Logger): Logger {
  if (!env.ADO_LOG_LEVEL) logger.level = 'warn';
  return logger;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number (1-65535).');
  return n;
}

/** Resolves on Ctrl-C or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
