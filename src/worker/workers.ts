/**
 * Worker pools. `task` runs the workflow and the task activities on `ado-tasks`; `code` and
 * `review` run their activities on `ado-code` and `ado-review`; `all` runs the three in one
 * process (the embedded default). The workflow code is bundled once per process.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { ActivityName, AdoActivities } from '../activities/interfaces';
import { activitiesOf, WORKSPACE_ACTIVITIES } from '../activities/pools';
import { poolsOf, taskQueues, workspaceQueue } from '../domain/task';
import { PROCESS_WORKER_ID } from '../workspace/warm';
import { adoActivityInterceptors } from './activity-interceptors';
import type { WorkerTracing } from '../telemetry/tracing';
import { ENCODING_FAILURE_CONVERTER_PATH } from '../codec/data-converter';
import { AdoErrorConversion } from './failure-conversion';

export const WORKER_POOLS = ['task', 'code', 'review', 'all'] as const;
export type WorkerPoolChoice = (typeof WORKER_POOLS)[number];

/** The worker defaults of the design (docs/architecture.md, "Names from the design"). */
export const DEFAULT_WORKER_TUNING = {
  maxConcurrentActivityExecutions: 10,
  maxConcurrentWorkflowTaskExecutions: 100,
} as const;

/** Activity polls of the task pool's worker: few enough to keep slots free for eager dispatch. */
const EAGER_FRIENDLY_ACTIVITY_POLLS = 2;

export interface WorkerPoolOptions {
  connection: NativeConnection;
  namespace: string;
  pool: WorkerPoolChoice;
  /** Implementations for the pools this process serves (see `createActivities`). */
  activities: Partial<AdoActivities>;
  /**
   * The deployment's task queue prefix (`ADO_TASK_QUEUE_PREFIX`, see `deploymentConfigFromEnv`).
   * @default '' (queues `ado-tasks`, `ado-code`, `ado-review`)
   */
  queuePrefix?: string;
  /**
   * A prebuilt workflow bundle (`ADO_WORKFLOW_BUNDLE`, see `deploymentConfigFromEnv`).
   * @default `dist/workflow-bundle.js` when running compiled code; otherwise bundled from the sources on first use
   */
  workflowBundle?: string;
  /** @default 10 (`DEFAULT_WORKER_TUNING`), per worker */
  maxConcurrentActivityExecutions?: number;
  /** @default 100 (`DEFAULT_WORKER_TUNING`) */
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Names this process's workspace queue. @default `PROCESS_WORKER_ID` */
  workspaceWorkerId?: string;
  /** Extra options for every worker (interceptors, sinks, tuning). @default none */
  workerOptions?: Partial<WorkerOptions>;
  /** OpenTelemetry tracing (see `tracingFromEnv`); its workflow interceptors need their own bundle. @default off */
  tracing?: WorkerTracing;
}

const bundles = new Map<string, Promise<WorkflowBundleOption>>();

/**
 * The workflow code for this process: a prebuilt bundle when there is one (`prebuilt`, or
 * `dist/workflow-bundle.js` written by `npm run build` next to the compiled code), otherwise
 * bundled once, on first use, from the sources this file runs from. `extraModules` (workflow
 * interceptors such as tracing's) are not in the prebuilt bundle: with them the code is bundled here.
 */
export function workflowBundle(options: { prebuilt?: string; extraModules?: readonly string[] } = {}): Promise<WorkflowBundleOption> {
  const extraModules = options.extraModules ?? [];
  const prebuilt = options.prebuilt ?? (path.extname(__filename) === '.js' ? PREBUILT_BUNDLE : undefined);
  const key = [prebuilt, ...extraModules].join('\n');
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = (async () => {
      if (extraModules.length === 0 && prebuilt && existsSync(prebuilt)) return { codePath: prebuilt };
      return bundleWorkflowCode(bundleOptions(extraModules));
    })();
    bundles.set(key, bundle);
  }
  return bundle;
}

/**
 * Writes the workflow bundle to `outFile` (build step, test setup), with the interceptors and
 * failure converter every production bundle has; `workflowsPath` swaps the workflow module (the
 * benchmark's adds a bare workflow beside the task workflow).
 */
export async function writeWorkflowBundle(outFile: string, workflowsPath: string = WORKFLOWS_PATH): Promise<void> {
  const { code } = await bundleWorkflowCode(bundleOptions([], workflowsPath));
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
}

// Sources under tsx/vitest, compiled JavaScript in dist/: bundle whichever this file is.
const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', `index${path.extname(__filename)}`);
const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');
/** Always bundled: the task id on every workflow log line. */
const LOG_CONTEXT_MODULE = path.join(__dirname, '..', 'telemetry', `workflow-log-context${path.extname(__filename)}`);

function bundleOptions(extraModules: readonly string[], workflowsPath = WORKFLOWS_PATH) {
  return {
    workflowsPath,
    workflowInterceptorModules: [LOG_CONTEXT_MODULE, ...extraModules],
    // Failures raised in workflow code carry their message in an encoded payload, so an
    // encrypting codec covers them too (clients read them the same way without one).
    failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH,
    logger: quietBundlerLogger,
  };
}

/**
 * Creates the workers of `pool` (one per task queue), and for a pool that runs the code
 * activities one more on this process's workspace queue (`WORKSPACE_ACTIVITIES`: the tree work of
 * the tasks whose warm workspace this process holds). Run them with `runWorkers`.
 */
export async function createWorkers(options: WorkerPoolOptions): Promise<Worker[]> {
  const pools = poolsOf(options.pool);
  const queues = taskQueues(options.queuePrefix);
  const workers: Worker[] = [];
  for (const pool of pools) {
    const taskPool =
      pool === 'task'
        ? {
            workflowBundle: await workflowBundle({ prebuilt: options.workflowBundle, extraModules: options.tracing?.workflowModules }),
            // Each open poll holds an activity slot; the default (one per slot) leaves none for
            // eager dispatch, which hands an activity on the workflow's own queue straight to
            // this worker instead of a round trip through the queue.
            activityTaskPollerBehavior: { type: 'simple-maximum', maximum: EAGER_FRIENDLY_ACTIVITY_POLLS } as const,
          }
        : {};
    workers.push(await createWorker(options, queues[pool], pickActivities(options.activities, activitiesOf(pool), pool), taskPool));
  }
  if (pools.includes('code')) {
    const queue = workspaceQueue(options.queuePrefix ?? '', options.workspaceWorkerId ?? PROCESS_WORKER_ID);
    workers.push(await createWorker(options, queue, pickActivities(options.activities, WORKSPACE_ACTIVITIES, 'workspace')));
  }
  return workers;
}

function createWorker(options: WorkerPoolOptions, taskQueue: string, activities: WorkerOptions['activities'], own: Partial<WorkerOptions> = {}): Promise<Worker> {
  const extra = options.workerOptions ?? {};
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    activities,
    ...own,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityExecutions ?? DEFAULT_WORKER_TUNING.maxConcurrentActivityExecutions,
    maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions ?? DEFAULT_WORKER_TUNING.maxConcurrentWorkflowTaskExecutions,
    // Cancellation reaches an activity with its next heartbeat: keep that prompt.
    maxHeartbeatThrottleInterval: '2s',
    ...extra,
    interceptors: {
      ...extra.interceptors,
      activity: [
        () => ({ inbound: new AdoErrorConversion() }),
        adoActivityInterceptors,
        ...(options.tracing?.activityInterceptors ?? []),
        ...(extra.interceptors?.activity ?? []),
      ],
    },
    sinks: { ...extra.sinks, ...options.tracing?.sinks },
  });
}

/** Runs workers until all stop; one failing shuts the others down. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((w) => w.run()));
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    throw err;
  }
}

function pickActivities(all: Partial<AdoActivities>, names: readonly ActivityName[], pool: string): Record<string, (...args: never[]) => unknown> {
  const picked: Record<string, (...args: never[]) => unknown> = {};
  for (const name of names) {
    const fn = all[name];
    if (!fn) throw new Error(`The ${pool} pool needs an implementation of activity "${name}".`);
    picked[name] = fn;
  }
  return picked;
}

const quietBundlerLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
  log: () => {},
};

