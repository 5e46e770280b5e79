/**
 * What every orchestration measurement runs on: one Temporal server for the whole run — the test
 * suite's dev server (`temporal server start-dev`, in-memory SQLite, ADO's search attributes) or,
 * with `--server topology`, the production topology's Temporal server on PostgreSQL (its ADO
 * worker pools idle beside it) — the bench workflow bundle written once (bench/workflows.ts,
 * bundled as production bundles are), a client, and worker processes (bench/worker.ts) on task
 * queues of their own.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { taskQueues } from '../src/domain/task';
import { startTopology } from '../src/topology/topology';
import { writeWorkflowBundle } from '../src/worker/workers';
import type { FakeScript } from '../test/fakes/test-activities';
import { startTsProcess, type TestProcess } from '../test/helpers/processes';
import { startLocalEnv } from '../test/helpers/temporal';
import { childPid } from './proc';
import { bareWorkflow } from './workflows';

export interface BenchWorker {
  process: TestProcess;
  pid: number;
  /** Wall clock (epoch ms) when the process was spawned and when it polled. */
  spawnedAt: number;
  readyAt: number;
}

export interface BenchStack {
  client: Client;
  serverPid: number;
  /** Scratch folder for this run (side-effect files); removed by `stop`. */
  dir: string;
  /**
   * Starts a worker process serving the queues of `prefix`: bench/worker.ts with the test
   * activities run by `script`, or another entry point (`worker.entry`) given `worker.env`.
   */
  startWorker(prefix: string, script?: FakeScript, worker?: { entry: string; env: Record<string, string> }): Promise<BenchWorker>;
  stop(): Promise<void>;
}

/** Task queues no other measurement uses. */
export function newPrefix(label: string): string {
  return `bench-${label}-${randomUUID().slice(0, 6)}-`;
}

/** Which Temporal server the orchestration figures are measured on. */
export type BenchServer = 'dev' | 'topology';

/** A Temporal server for the run: its address, a client, its pid, and how to stop it. */
interface Server {
  address: string;
  client: Client;
  pid: number;
  stop(): Promise<void>;
}

async function startDevServer(): Promise<Server> {
  const env = await startLocalEnv();
  return { address: env.address, client: env.client, pid: childPid('start-dev'), stop: () => env.teardown() };
}

async function startTopologyServer(): Promise<Server> {
  // A folder of its own: the topology opens it to the postgres user, which the bench's must not be.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-topology-'));
  const topology = await startTopology({ dir, log: (line) => console.error(`  [topology] ${line}`) });
  const { temporalAddress, namespace, processes } = topology.state;
  const connection = await Connection.connect({ address: temporalAddress });
  return {
    address: temporalAddress,
    client: new Client({ connection, namespace }),
    pid: processes.find((p) => p.name === 'temporal')!.pid!,
    async stop() {
      await connection.close();
      await topology.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startStack(server: BenchServer = 'dev'): Promise<BenchStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-bench-'));
  const bundleFile = path.join(dir, 'workflow-bundle.js');
  await writeWorkflowBundle(bundleFile, path.join(__dirname, 'workflows.ts'));
  const env = server === 'topology' ? await startTopologyServer() : await startDevServer();
  const workers: TestProcess[] = [];
  return {
    client: env.client,
    serverPid: env.pid,
    dir,
    async startWorker(prefix, script = {}, worker = { entry: 'bench/worker.ts', env: {} }) {
      const spawnedAt = Date.now();
      const proc = await startTsProcess(worker.entry, {
        ...worker.env,
        TEMPORAL_ADDRESS: env.address,
        ADO_TASK_QUEUE_PREFIX: prefix,
        ADO_WORKFLOW_BUNDLE: bundleFile,
        FAKE_SCRIPT: JSON.stringify(script),
      });
      workers.push(proc);
      return { process: proc, pid: proc.child.pid!, spawnedAt, readyAt: Date.now() };
    },
    async stop() {
      await Promise.all(workers.map((w) => w.kill()));
      await env.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the bare workflow: one no-op activity per entry of `activityQueues`. */
export function startBare(client: Client, prefix: string, activityQueues: string[]): Promise<WorkflowHandle<typeof bareWorkflow>> {
  return client.workflow.start(bareWorkflow, { taskQueue: taskQueues(prefix).task, workflowId: `bare-${randomUUID()}`, args: [activityQueues] });
}
