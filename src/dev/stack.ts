/**
 * The embedded stack `ado dev` runs on one machine: the real Temporal server of the Temporal CLI
 * (SQLite under ADO home), the ADO store (PGlite), and a worker serving every pool. Beside it, a
 * demo pool on its own task queues answers with the demo's recorded LLM transcript, so
 * `ado demo` works offline against a running stack too.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectWorkers, type StackInfo, type TemporalSettings } from '../client/connection';
import { adoPaths } from '../config/paths';
import { ADO_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { createLlmClient } from '../llm/config';
import type { Logger } from '../telemetry/logger';
import { locateBinary, TEMPORAL_CLI } from '../temporal/binaries';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { startWorkers, type RunningWorkers } from '../worker/run';
import { llmFromEnv, openSharedParts, wireActivities, type SharedParts } from '../worker/wiring';

/** Task queue prefix of the demo pool. */
export const DEMO_QUEUE_PREFIX = 'demo-';
/** The demo's sample repository and the transcript its model answers replay. */
export const DEMO_REPOSITORY = path.join(__dirname, '..', '..', 'examples', 'signup-service');
export const DEMO_TRANSCRIPT = path.join(__dirname, '..', '..', 'examples', 'signup-service.transcript.yaml');

export interface EmbeddedStackOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  ip?: string;
  port: number;
  uiPort: number | false;
  namespace: string;
  /** Run the worker pools in this process (default true). */
  workers?: boolean;
  /** Progress lines for the user. */
  say?: (line: string) => void;
}

export interface EmbeddedStack {
  settings: TemporalSettings;
  server: DevServer;
  uiUrl?: string;
  llmDescription: string;
  llmProblem?: string;
  /** Request log of the demo pool's scripted model (what each prompt carried). */
  demoRequestLog: string;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const { home, env, logger } = options;
  const say = options.say ?? (() => {});
  const paths = adoPaths(home);
  mkdirSync(home, { recursive: true });

  const binary = await locateBinary(TEMPORAL_CLI, { env, log: say });
  say(`Starting the Temporal dev server (state in ${paths.temporalDb})…`);
  const server = await startDevServer({
    binary,
    dbFile: paths.temporalDb,
    ip: options.ip,
    port: options.port,
    uiPort: options.uiPort,
    namespace: options.namespace,
    searchAttributes: ADO_SEARCH_ATTRIBUTES,
  });
  const settings: TemporalSettings = { address: server.address, namespace: options.namespace, source: 'ado dev' };
  const demoRequestLog = path.join(home, 'demo', 'requests.jsonl');
  const running: RunningWorkers[] = [];
  let parts: SharedParts | undefined;
  let llm = { description: 'no workers in this process', problem: undefined as string | undefined };
  try {
    if (options.workers !== false) {
      say('Opening the ADO store and starting the workers…');
      parts = await openSharedParts({ env, home, logger });
      const connection = await connectWorkers(settings);
      const configured = llmFromEnv(env, logger);
      llm = { description: configured.description, problem: configured.problem };
      const demoLlm = createLlmClient({ provider: 'scripted', transcriptPath: DEMO_TRANSCRIPT, requestLogPath: demoRequestLog });
      const base = { connection, namespace: options.namespace, pool: 'all' as const };
      running.push(await startWorkers({ ...base, activities: wireActivities(parts, configured.llm, env) }));
      running.push(await startWorkers({ ...base, activities: wireActivities(parts, demoLlm, env), queuePrefix: DEMO_QUEUE_PREFIX }));
    }
  } catch (err) {
    await Promise.all(running.map((r) => r.shutdown()));
    await parts?.store.close();
    await server.stop();
    throw err;
  }

  const info: StackInfo = { pid: process.pid, address: server.address, namespace: options.namespace, uiUrl: server.uiUrl };
  writeFileSync(paths.stackFile, JSON.stringify(info, null, 2));

  let stopping: Promise<void> | undefined;
  return {
    settings,
    server,
    uiUrl: server.uiUrl,
    llmDescription: llm.description,
    llmProblem: llm.problem,
    demoRequestLog,
    stop: () =>
      (stopping ??= (async () => {
        rmSync(paths.stackFile, { force: true });
        await Promise.all(running.map((r) => r.shutdown()));
        await parts?.store.close();
        await server.stop();
      })()),
  };
}
