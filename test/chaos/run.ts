/**
 * `npm run chaos -- --tasks N`: N tasks on the production topology (deploy/topology's code) while
 * faults hit it at random moments — SIGKILL of a worker pool, SIGKILL of the Temporal server (the
 * supervisor restarts it), a PostgreSQL restart, the git server away for a while, and model
 * faults (429, 5xx, no answer, malformed answers) from a proxy in front of the model. Then it
 * counts, from outside the workers: tasks completed, failed (and with which failure type), lost
 * (never reached an end), and duplicate side effects — more than one commit per iteration on a
 * task branch, more than one pull request per task, more than one `task.ended` webhook per task,
 * and model answers given for a step after that step had completed in the workflow's history.
 */
import { createServer } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { controlProcess } from '../../src/topology/control';
import { startTopology, type RunningTopology } from '../../src/topology/topology';
import { gitOrNull } from '../../src/workspace/git';
import { pushUserRepository, startTask, waitForTask, type ApiTask } from '../topology/client';
import { startModelDouble, writeDirective, type ModelDouble, type Purpose } from '../topology/model-double';
import { startFaultProxy } from './fault-proxy';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4' },
    faults: { type: 'string', default: 'on' },
    'model-fault-rate': { type: 'string', default: '0.15' },
    'fault-every': { type: 'string', default: '12', description: 'mean seconds between process faults' },
    'task-timeout': { type: 'string', default: '900', description: 'seconds a task may take before it counts as lost' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const TASKS = Number(args.tasks);
const CONCURRENCY = Number(args.concurrency);
const FAULTS = args.faults !== 'off';
const say = (line: string) => process.stdout.write(`${line}\n`);
const stamp = (start: number) => `${((Date.now() - start) / 1000).toFixed(0).padStart(5)} s`;

/** A loopback webhook receiver: `task.ended` deliveries per task. */
async function startWebhookReceiver() {
  const ended = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string; taskId?: string };
        if (event.type === 'task.ended' && event.taskId) ended.set(event.taskId, (ended.get(event.taskId) ?? 0) + 1);
      } catch {
        // Not ours to judge: count only what parses.
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, ended, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface FaultRecord {
  at: string;
  what: string;
  failed?: boolean;
}

/** Injects one random process fault every `meanSeconds` on average until `stop()`. */
function startProcessFaults(dir: string, meanSeconds: number, start: number) {
  const log: FaultRecord[] = [];
  let running = true;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const loop = (async () => {
    await wait(5_000);
    while (running) {
      await wait(meanSeconds * 1000 * (0.5 + Math.random()));
      if (!running) break;
      const kind = pick(['kill-worker', 'kill-worker', 'kill-temporal', 'restart-postgres', 'git-server-away'] as const);
      try {
        if (kind === 'kill-worker') {
          const pool = pick(['worker-task', 'worker-code', 'worker-review']);
          await controlProcess(dir, pool, 'kill');
          log.push({ at: stamp(start), what: `SIGKILL ${pool}` });
        } else if (kind === 'kill-temporal') {
          await controlProcess(dir, 'temporal', 'kill');
          log.push({ at: stamp(start), what: 'SIGKILL temporal (restarted by the supervisor)' });
        } else if (kind === 'restart-postgres') {
          await controlProcess(dir, 'postgres', 'restart');
          log.push({ at: stamp(start), what: 'restart postgres' });
        } else {
          const away = 5 + Math.floor(Math.random() * 10);
          await controlProcess(dir, 'git-server', 'stop');
          log.push({ at: stamp(start), what: `git server away for ${away} s` });
          await wait(away * 1000);
          await controlProcess(dir, 'git-server', 'start');
        }
      } catch (err) {
        log.push({ at: stamp(start), what: `${kind} could not be injected: ${(err as Error).message}`, failed: true });
      }
    }
  })();
  return {
    log,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

const STEP_ACTIVITY: Record<Purpose, string> = { plan: 'planTask', decompose: 'decomposeTask', code: 'generateCode' };

/**
 * From the workflow's history: when each step activity first completed, and the failure type the
 * workflow failed with (if it did).
 */
async function readHistory(client: Client, workflowId: string): Promise<{ done: Map<string, number>; failureType?: string }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const done = new Map<string, number>();
  let failureType: string | undefined;
  for (const event of history.events ?? []) {
    const failure = event.workflowExecutionFailedEventAttributes?.failure;
    if (failure) failureType = rootType(failure);
    const id = String(event.eventId);
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) scheduled.set(id, name);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const type = scheduled.get(String(completed.scheduledEventId));
      const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
      if (type && !done.has(type)) done.set(type, at);
    }
  }
  return { done, failureType };
}

interface FailureLike {
  applicationFailureInfo?: { type?: string | null } | null;
  cause?: FailureLike | null;
}

/** The type of the innermost application failure in a failure chain. */
function rootType(failure: FailureLike): string | undefined {
  const inner = failure.cause ? rootType(failure.cause) : undefined;
  return inner ?? failure.applicationFailureInfo?.type ?? undefined;
}

interface TaskResult {
  taskId: string;
  file: string;
  view?: ApiTask;
}

async function main(): Promise<void> {
  const dir = args.dir ? path.resolve(args.dir) : await mkdtemp(path.join(os.tmpdir(), 'ado-chaos-'));
  const model: ModelDouble = await startModelDouble();
  const proxy = await startFaultProxy(model.url, { rate: FAULTS ? Number(args['model-fault-rate']) : 0 });
  const hooks = await startWebhookReceiver();
  say(`chaos: ${TASKS} tasks, ${CONCURRENCY} at a time, faults ${FAULTS ? 'on' : 'off'}; topology in ${dir}`);
  let topology: RunningTopology | undefined;
  try {
    topology = await startTopology({
      dir,
      env: {
        ADO_LLM_PROVIDER: 'openai',
        ADO_LLM_BASE_URL: proxy.url,
        ADO_LLM_API_KEY: '',
        ADO_LLM_MODEL: 'model-double',
        ADO_LLM_TIMEOUT_MS: '8000',
        ADO_WEBHOOK_URLS: hooks.url,
        ADO_WEBHOOK_SECRET: 'chaos-webhook-secret-0123456789',
        ADO_LOG_LEVEL: 'info',
      },
      log: (line) => say(`[topology] ${line}`),
    });
    const { state } = topology;
    const repository = await pushUserRepository(state, 'chaos-app', { 'README.md': '# chaos\n', '.ado.yml': 'gates:\n  test: "ls notes/*.txt"\n' });
    const start = Date.now();
    const faults = FAULTS ? startProcessFaults(dir, Number(args['fault-every']), start) : undefined;
    const run = `c${Date.now().toString(36)}`;
    const ids = Array.from({ length: TASKS }, (_, i) => `${run}-${String(i + 1).padStart(3, '0')}`);
    const results = await pool(ids, CONCURRENCY, async (taskId): Promise<TaskResult> => {
      const file = `notes/${taskId}.txt`;
      // Submitting may meet a fault (the API's Temporal or store away): try for a while.
      for (let attempt = 0; attempt < 60; attempt++) {
        try {
          await startTask(state, { taskId, prompt: `Add a note for ${taskId}. ${writeDirective(file)}`, repository, maxIterations: 3 });
          break;
        } catch (err) {
          if (/409|already/i.test((err as Error).message)) break;
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
      const view = await waitForTask(state, taskId, Number(args['task-timeout']) * 1000);
      say(`${stamp(start)}  ${taskId}: ${view?.state?.phase ?? 'unknown'}${view?.state?.failure ? ` (${view.state.failure.slice(0, 120)})` : ''}`);
      return { taskId, file, view };
    });
    await faults?.stop();

    // Outcomes, then duplicates counted from outside the workers.
    const served = path.join(dir, 'git');
    const mirror = (await readdir(served)).find((name) => name.startsWith('chaos-app-'));
    const connection = await Connection.connect({ address: state.temporalAddress });
    const client = new Client({ connection, namespace: state.namespace });
    const pg = new PgClient({ host: '127.0.0.1', port: state.postgresPort, user: 'ado', database: 'ado', password: state.clientEnv.PGPASSWORD });
    await pg.connect();
    const prs = new Map((await pg.query<{ task_id: string; n: string }>('SELECT task_id, count(*) AS n FROM pull_requests GROUP BY task_id')).rows.map((r) => [r.task_id, Number(r.n)]));
    await pg.end();

    let completed = 0;
    let failed = 0;
    let lost = 0;
    const failureTypes = new Map<string, number>();
    const dup = { commits: 0, pullRequests: 0, notifications: 0, modelAnswers: 0 };
    for (const r of results) {
      const phase = r.view?.state?.phase;
      const history = await readHistory(client, r.taskId).catch(() => ({ done: new Map<string, number>(), failureType: undefined }));
      if (phase === 'completed') completed++;
      else if (phase === 'failed' || phase === 'cancelled') {
        failed++;
        const type = history.failureType ?? 'no failure type';
        failureTypes.set(type, (failureTypes.get(type) ?? 0) + 1);
      } else lost++;

      const branch = mirror ? await gitOrNull(['log', '--format=%s', `refs/heads/ado/${r.taskId}`, '--not', 'refs/heads/main'], { cwd: path.join(served, mirror) }) : null;
      const subjects = (branch ?? '').split('\n').filter(Boolean);
      dup.commits += subjects.length - new Set(subjects).size;
      dup.pullRequests += Math.max(0, (prs.get(r.taskId) ?? 0) - 1);
      dup.notifications += Math.max(0, (hooks.ended.get(r.taskId) ?? 0) - 1);
      for (const answer of model.answers.filter((a) => a.file === r.file)) {
        const completedAt = history.done.get(STEP_ACTIVITY[answer.purpose]);
        if (completedAt !== undefined && answer.at > completedAt) dup.modelAnswers++;
      }
    }
    await connection.close();
    const duplicates = dup.commits + dup.pullRequests + dup.notifications + dup.modelAnswers;

    say('');
    say('| measure | value |');
    say('|---|---|');
    say(`| tasks | ${TASKS} (${CONCURRENCY} at a time) |`);
    say(`| wall time | ${((Date.now() - start) / 1000).toFixed(0)} s |`);
    say(`| completed | ${completed} |`);
    say(`| failed cleanly | ${failed}${failureTypes.size ? ` (${[...failureTypes].map(([t, n]) => `${t}: ${n}`).join(', ')})` : ''} |`);
    say(`| lost | ${lost} |`);
    say(`| process faults | ${faults?.log.filter((f) => !f.failed).length ?? 0} |`);
    say(`| model faults | ${[...proxy.injected].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'} |`);
    say(`| model answers | ${model.answers.length} |`);
    say(`| duplicate commits / PRs / notifications / model answers after their step | ${dup.commits} / ${dup.pullRequests} / ${dup.notifications} / ${dup.modelAnswers} |`);
    say(`| restarts | ${topology.supervisor.status().map((p) => `${p.name} ${p.restarts}`).join(', ')} |`);
    if (faults?.log.length) {
      say('');
      say('faults:');
      for (const f of faults.log) say(`  ${f.at}  ${f.what}`);
    }
    say('');
    say(`chaos: ${TASKS} tasks, ${completed} completed, ${failed} failed cleanly, ${lost} lost, ${duplicates} duplicate side effects`);
    process.exitCode = lost === 0 && duplicates === 0 ? 0 : 1;
  } finally {
    await topology?.stop();
    await Promise.all([model.close(), proxy.close(), hooks.close()]);
    if (!args.keep && !args.dir) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
