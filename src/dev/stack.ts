/**
 * The embedded stack `ado dev` runs on one machine: the real Temporal server of the Temporal CLI
 * (SQLite under ADO home) with its Web UI and codec endpoint, the ADO store (PGlite), the HTTP API
 * and console, and a worker serving every pool. Beside it, one demo pool per example of
 * `ado demo`, each on task queues of its own, answers with that example's recorded LLM
 * transcript, so `ado demo` works offline against a running stack too.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startApiForStack } from '../api';
import { startCodecServer, uiOrigins } from '../api/codec-server';
import { apiAuthFromEnv } from '../api/config';
import { connectClient, connectWorkers, type StackInfo, type TemporalSettings } from '../client/connection';
import { deploymentConfigFromEnv } from '../config/deployment';
import { adoPaths } from '../config/paths';
import { portFromEnv } from '../config/ports';
import { temporalPlumbing, type TemporalPlumbing } from '../client/temporal-plumbing';
import { AesGcmCodec } from '../codec';
import { ADO_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { createLlmClient } from '../llm/config';
import type { Logger } from '../telemetry/logger';
import { locateBinary, TEMPORAL_CLI } from '../temporal/binaries';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { startWorkers } from '../worker/run';
import { llmFromEnv, openSharedParts, wireActivities } from '../worker/wiring';
import { closeAll } from './close-all';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

/**
 * The demo pools: per example of `ado demo` (src/demo/examples.ts), the prefix of its task queues
 * and the transcript its scripted model replays. A task started on an example's queues gets that
 * example's answers, so the examples share one stack without sharing a transcript.
 */
export const DEMO_POOLS = {
  signup: { queuePrefix: 'demo-', transcript: path.join(EXAMPLES, 'signup-service.transcript.yaml') },
  ledger: { queuePrefix: 'demo-ledger-', transcript: path.join(EXAMPLES, 'ledger.transcript.yaml') },
} as const;
/** The names of the demo's examples. */
export type DemoExampleName = keyof typeof DEMO_POOLS;

/** Task queue prefix of the default example's demo pool (the signup service). */
export const DEMO_QUEUE_PREFIX = DEMO_POOLS.signup.queuePrefix;
/** The default example's sample repository. */
export const DEMO_REPOSITORY = path.join(EXAMPLES, 'signup-service');

export interface EmbeddedStackOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Address every server of the stack listens on. @default '127.0.0.1' */
  ip?: string;
  port: number;
  uiPort: number | false;
  namespace: string;
  /** Run the worker pools in this process. @default true */
  workers?: boolean;
  /** Report queue depth and tasks by phase (the process serves metrics). @default false */
  gauges?: boolean;
  /** Where this process serves /metrics, recorded for other commands. */
  metricsUrl?: string;
  /** API and console port (0: a free one). @default ADO_API_PORT, or 8080 */
  apiPort?: number;
  /** Progress lines for the user. @default none */
  say?: (line: string) => void;
  /** A stop request: aborting while the stack starts stops what has started and rejects. */
  signal?: AbortSignal;
}

export interface EmbeddedStack {
  settings: TemporalSettings;
  server: DevServer;
  uiUrl?: string;
  /** The Web UI's codec endpoint (payload encryption is on unless ADO_CODEC=off). */
  codecUrl?: string;
  /** The HTTP API and web console. */
  apiUrl: string;
  apiAuthRequired: boolean;
  /** What clients of this process need to read the stack's payloads. */
  plumbing: TemporalPlumbing;
  llmDescription: string;
  llmProblem?: string;
  /** Request log of the demo pools' scripted models (what each prompt carried; each line names its task). */
  demoRequestLog: string;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const { home, env, logger } = options;
  const signal = options.signal;
  // Progress, and a stop request honoured between the steps of the start.
  const say = (line: string) => {
    signal?.throwIfAborted();
    options.say?.(line);
  };
  const ip = options.ip ?? '127.0.0.1';
  const paths = adoPaths(home);
  mkdirSync(home, { recursive: true });
  const plumbing = temporalPlumbing(env, home, { generateKey: true });
  // Closed in reverse order, so the tracing exporter (plumbing) flushes last, after the workers'
  // spans, and also when the start fails.
  const closers: Array<() => Promise<void>> = [() => plumbing.close()];
  const stopAll = () => closeAll(closers.splice(0));
  try {
    if (plumbing.codecKeys?.generated) say(`Generated a payload encryption key in ${plumbing.codecKeys.source}.`);
    const binary = await locateBinary(TEMPORAL_CLI, { env, log: say });
    // The Web UI decrypts through the codec endpoint, so it must be up (and known) before the server.
    let codecUrl: string | undefined;
    if (plumbing.codecKeys && options.uiPort !== false) {
      const codec = await startCodecServer({
        host: ip,
        port: portFromEnv(env, 'ADO_CODEC_PORT', 0, true),
        codec: new AesGcmCodec(plumbing.codecKeys.keyring),
        corsOrigins: uiOrigins(`http://${ip}:${options.uiPort}`),
        auth: apiAuthFromEnv(env),
        logger,
      });
      closers.push(() => codec.close());
      codecUrl = codec.url;
    }
    say(`Starting the Temporal dev server (state in ${paths.temporalDb})…`);
    const server = await startDevServer({
      binary,
      dbFile: paths.temporalDb,
      ip,
      port: options.port,
      uiPort: options.uiPort,
      uiCodecEndpoint: codecUrl,
      namespace: options.namespace,
      searchAttributes: ADO_SEARCH_ATTRIBUTES,
      pidFile: paths.temporalPidFile,
      signal,
    });
    closers.push(() => server.stop());
    const settings: TemporalSettings = { address: server.address, namespace: options.namespace, source: 'ado dev' };
    const demoRequestLog = path.join(home, 'demo', 'requests.jsonl');
    let llm = { description: 'no workers in this process', problem: undefined as string | undefined };
    // One store per process: PGlite allows one opener per data directory.
    say('Opening the ADO store…');
    const parts = await openSharedParts({ env, home, logger });
    closers.push(() => parts.store.close());
    if (options.workers !== false) {
      say('Starting the workers…');
      const connection = await connectWorkers(settings);
      closers.push(() => connection.close());
      const configured = llmFromEnv(env, logger);
      llm = { description: configured.description, problem: configured.problem };
      const base = {
        connection,
        namespace: options.namespace,
        pool: 'all' as const,
        workflowBundle: deploymentConfigFromEnv(env, home).workflowBundle,
        dataConverter: plumbing.workerDataConverter,
        tracing: plumbing.tracing?.worker,
      };
      const main = await startWorkers({ ...base, activities: wireActivities(parts, configured.llm, env), gauges: options.gauges ? { logger } : undefined });
      closers.push(() => main.shutdown());
      for (const pool of Object.values(DEMO_POOLS)) {
        const demoLlm = createLlmClient({ provider: 'scripted', transcriptPath: pool.transcript, requestLogPath: demoRequestLog });
        const demo = await startWorkers({ ...base, activities: wireActivities(parts, demoLlm, env), queuePrefix: pool.queuePrefix });
        closers.push(() => demo.shutdown());
      }
    }

    say('Starting the API…');
    const client = await connectClient(settings, { dataConverter: plumbing.dataConverter, interceptors: plumbing.tracing?.clientInterceptors });
    closers.push(() => client.connection.close());
    const api = await startApiForStack({
      client,
      store: parts.store,
      logger,
      env,
      port: options.apiPort,
    });
    closers.push(() => api.close());

    const info: StackInfo = {
      pid: process.pid,
      address: server.address,
      namespace: options.namespace,
      uiUrl: server.uiUrl,
      apiUrl: api.url,
      codecUrl,
      metricsUrl: options.metricsUrl,
    };
    signal?.throwIfAborted();
    writeFileSync(paths.stackFile, JSON.stringify(info, null, 2));
    closers.push(async () => rmSync(paths.stackFile, { force: true }));

    let stopping: Promise<void> | undefined;
    return {
      settings,
      server,
      uiUrl: server.uiUrl,
      codecUrl,
      apiUrl: api.url,
      apiAuthRequired: api.authRequired,
      plumbing,
      llmDescription: llm.description,
      llmProblem: llm.problem,
      demoRequestLog,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    // The start failure is the error to report; what failed to stop after it is logged.
    await stopAll().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'Could not stop every part of the stack after a failed start'));
    throw err;
  }
}
