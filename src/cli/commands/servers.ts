/** `ado dev | worker | codec | demo`: running ADO's processes. */
import { Option, type Command } from 'commander';
import { startCodecServer } from '../../api/codec-server';
import { apiAuthFromEnv } from '../../api/config';
import { AesGcmCodec } from '../../codec';
import { codecTurnedOff, noKeyConfigured } from '../../codec/keys-config';
import { connectWorkers } from '../../client/connection';
import { adoHome } from '../../config/paths';
import { runDemo } from '../../demo/demo';
import { DEMO_EXAMPLE_NAMES, DEMO_EXAMPLES } from '../../demo/examples';
import { startEmbeddedStack, type DemoExampleName } from '../../dev/stack';
import { storeConfigFromEnv } from '../../store';
import { freePort, isPortFree } from '../../temporal/ports';
import { FailureType, nonRetryable } from '../../domain/errors';
import { loggerOptionsFromEnv, type Logger } from '../../telemetry/logger';
import { DEV_METRICS_PORT, metricsConfigFromEnv } from '../../telemetry/metrics-config';
import { installTelemetryRuntime } from '../../telemetry/runtime';
import { installTemporalRuntime } from '../../telemetry/temporal-logger';
import { startWorkers } from '../../worker/run';
import { llmFromEnv, openSharedParts, wireActivities } from '../../worker/wiring';
import { DEFAULT_WORKER_TUNING, WORKER_POOLS, type WorkerPoolChoice } from '../../worker/workers';
import type { CliContext } from '../context';
import { DEFAULT_CODEC_PORT, DEFAULT_TEMPORAL_PORT, DEFAULT_TEMPORAL_UI_PORT, listenPort, portOption, positiveInt, stopRequests, untilSignal } from '../options';
import { followLines, printJson, printLine } from '../output';

const env = process.env;
const grpcPortOption = (description: string) => portOption('--port <n>', description, 'ADO_TEMPORAL_PORT', DEFAULT_TEMPORAL_PORT);
const uiPortOption = (description: string) => portOption('--ui-port <n>', description, 'ADO_TEMPORAL_UI_PORT', DEFAULT_TEMPORAL_UI_PORT);

export function registerServerCommands(program: Command, ctx: CliContext): void {
  program
    .command('dev')
    .description('run the embedded stack: Temporal dev server (SQLite under .ado/) with Web UI, ADO store, API and console, an all-in-one worker')
    .addOption(grpcPortOption('Temporal gRPC port'))
    .addOption(uiPortOption('Temporal Web UI port'))
    .option('--api-port <n>', 'ADO API and console port (ADO_API_PORT, default 8080)', (value: string) => listenPort(value))
    .option('--no-worker', 'start the server, store and API only (run workers with `ado worker`)')
    // `--namespace` is the global option (commander gives it to `ado` wherever it appears).
    .addHelpText('after', '\nGlobal option:\n  --namespace <name>  namespace to create and use (default: "default")')
    .action(async (opts: { port: number; uiPort: number; apiPort?: number; worker: boolean }) => {
      // Listening from the first moment: a Ctrl-C while the stack starts stops what has started.
      const stopRequest = stopRequests();
      const namespace = ctx.globalOptions().namespace ?? 'default';
      const logger = ctx.logger;
      // The usual metrics port when it is free; another `ado dev` (other ports) gets a free one.
      const metricsPort = (await isPortFree(DEV_METRICS_PORT, '127.0.0.1')) ? DEV_METRICS_PORT : await freePort();
      const { metricsUrl } = installTelemetryRuntime(logger, metricsConfigFromEnv(env, { defaultPort: metricsPort }));
      const starting = startEmbeddedStack({
        home: adoHome(env),
        env,
        logger,
        port: opts.port,
        uiPort: opts.uiPort,
        apiPort: opts.apiPort,
        namespace,
        workers: opts.worker,
        gauges: metricsUrl !== undefined,
        metricsUrl,
        say: (line) => printLine(line),
        signal: stopRequest.signal,
      });
      const stack = await starting.catch((err: unknown) => {
        if (!stopRequest.signal.aborted) throw err;
        return undefined;
      });
      if (!stack) {
        printLine('Stopped while starting; everything started so far has been stopped.');
        stopRequest.dispose();
        return;
      }
      printLine('');
      printLine(`ADO is running.`);
      printLine(`  Temporal gRPC:  ${stack.settings.address} (namespace ${stack.settings.namespace})`);
      printLine(`  Temporal UI:    ${stack.uiUrl}${stack.codecUrl ? ` (payloads encrypted; decoded through ${stack.codecUrl})` : ''}`);
      printLine(`  API + console:  ${stack.apiUrl} (auth ${stack.apiAuthRequired ? 'on' : 'off: this machine only'})`);
      if (metricsUrl) printLine(`  metrics:        ${metricsUrl}`);
      printLine(`  workers:        ${opts.worker ? `every pool; LLM: ${stack.llmDescription}` : 'none (start them with `ado worker`)'}`);
      if (!opts.worker && !storeConfigFromEnv(env).databaseUrl) {
        printLine(
          '  store:          embedded (PGlite), which opens in one process only: `ado worker` processes cannot share it.\n' +
            '                  Set ADO_DATABASE_URL (PostgreSQL) for `ado dev --no-worker` and for each `ado worker`.',
        );
      }
      if (stack.llmProblem) printLine(`  LLM not configured — tasks will fail at planning until you set it:\n    ${stack.llmProblem.replace(/\n/g, '\n    ')}`);
      printLine(`  try:            ado demo   (offline, recorded model answers)`);
      printLine(`Press Ctrl-C to stop everything started here.`);
      await stopRequest.requested;
      printLine('Stopping…');
      await stack.stop();
      stopRequest.dispose();
    });

  program
    .command('worker')
    .description('run a worker pool against the configured Temporal server (TEMPORAL_ADDRESS…)')
    .addOption(new Option('--pool <pool>', 'which activities (and, for task/all, the workflow) to serve').choices(WORKER_POOLS).default('all'))
    .option('--max-concurrent-activities <n>', 'activities run at once per pool', positiveInt, DEFAULT_WORKER_TUNING.maxConcurrentActivityExecutions)
    .option('--max-concurrent-workflow-tasks <n>', 'workflow tasks run at once', positiveInt, DEFAULT_WORKER_TUNING.maxConcurrentWorkflowTaskExecutions)
    .action(async (opts: { pool: WorkerPoolChoice; maxConcurrentActivities: number; maxConcurrentWorkflowTasks: number }) => {
      const logger = ctx.logger;
      const { metricsUrl } = installTelemetryRuntime(logger, metricsConfigFromEnv(env));
      const settings = ctx.settings();
      const { workerDataConverter, tracing } = ctx.plumbing();
      const parts = await openSharedParts({ env, home: adoHome(env), logger });
      try {
        const llm = llmFromEnv(env, logger);
        if (llm.problem && opts.pool !== 'review') logger.warn(llm.problem);
        const connection = await connectWorkers(settings);
        try {
          const workers = await startWorkers({
            connection,
            namespace: settings.namespace,
            pool: opts.pool,
            activities: wireActivities(parts, llm.llm, env),
            queuePrefix: ctx.queuePrefix(),
            workflowBundle: ctx.deployment().workflowBundle,
            maxConcurrentActivityExecutions: opts.maxConcurrentActivities,
            maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks,
            dataConverter: workerDataConverter,
            tracing: tracing?.worker,
            gauges: metricsUrl ? { logger } : undefined,
          });
          try {
            logger.info(
              { pool: opts.pool, address: settings.address, namespace: settings.namespace, llm: llm.description, metricsUrl, encrypted: workerDataConverter !== undefined },
              'Worker running',
            );
            await Promise.race([untilSignal(), workers.done]);
          } finally {
            await workers.shutdown();
          }
        } finally {
          await connection.close();
        }
      } finally {
        await parts.store.close();
      }
    });

  program
    .command('codec')
    .description("serve the payload codec endpoint for a Temporal Web UI (decrypts ADO's payloads for the UI in your browser)")
    .addOption(portOption('--port <n>', 'port on 127.0.0.1 (0: a free one)', 'ADO_CODEC_PORT', DEFAULT_CODEC_PORT, true))
    .option('--cors-origin <url...>', 'origin(s) of the Web UI allowed to call it, e.g. http://localhost:8080', [])
    .action(async (opts: { port: number; corsOrigin: string[] }) => {
      const keys = ctx.plumbing().codecKeys;
      if (!keys) {
        const problem = codecTurnedOff(env) ? 'ADO_CODEC=off turns payload encryption off, so there is nothing to decrypt.' : noKeyConfigured(adoHome(env));
        throw nonRetryable(FailureType.InvalidConfig, `\`ado codec\` needs the payload encryption key, but ${problem}`);
      }
      const auth = apiAuthFromEnv(env);
      const server = await startCodecServer({ port: opts.port, codec: new AesGcmCodec(keys.keyring), corsOrigins: opts.corsOrigin, auth, logger: ctx.logger });
      const access = auth.tokens.length > 0 ? 'requests need a bearer token from ADO_API_TOKENS' : 'no ADO_API_TOKENS: requests from this machine only';
      printLine(`Codec endpoint: ${server.url} (keys from ${keys.source}; CORS: ${opts.corsOrigin.join(', ') || 'none'}; ${access})`);
      await untilSignal();
      await server.close();
    });

  program
    .command('demo')
    .description('run a whole task offline on a sample repository (recorded model answers), on the running stack or a new one')
    .addOption(new Option('--example <name>', 'which example to run (listed below)').choices(DEMO_EXAMPLE_NAMES).default('signup'))
    .option('--hitl', 'pause at plan and PR for your approval (run the printed `ado approve` in another terminal)', false)
    .addOption(grpcPortOption('Temporal gRPC port when a stack must be started'))
    .addOption(uiPortOption('Temporal Web UI port when a stack must be started'))
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', `\nExamples:\n${DEMO_EXAMPLE_NAMES.map((name) => `  ${name.padEnd(8)} ${DEMO_EXAMPLES[name].summary}`).join('\n')}`)
    .action(async (opts: { example: DemoExampleName; hitl: boolean; port: number; uiPort: number; json: boolean }) => {
      const logger = quieter(ctx.logger);
      installTemporalRuntime(logger);
      const say = opts.json ? () => {} : (line: string) => printLine(line);
      const result = await runDemo({
        home: adoHome(env),
        env,
        logger,
        hitl: opts.hitl,
        example: opts.example,
        port: opts.port,
        uiPort: opts.uiPort,
        say,
        // Approvals come from another terminal in this folder, where `npx ado` finds the CLI.
        onEvent: (event) => say(followLines(event, 'npx ado')),
      });
      if (opts.json) printJson(result);
      else printDemoResult(result);
      if (!result.outcome.ok) process.exitCode = 1;
    });
}

function printDemoResult(result: Awaited<ReturnType<typeof runDemo>>): void {
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

/** The demo's own output tells the story: logs only for warnings, unless ADO_LOG_LEVEL says otherwise. */
function quieter(logger: Logger): Logger {
  if (loggerOptionsFromEnv(env).level === undefined) logger.level = 'warn';
  return logger;
}
