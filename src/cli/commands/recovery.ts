/** `ado resume | migrate`: bring a task back from its checkpoints, or move it to a new version. */
import { Option, type Command } from 'commander';
import { readStackInfo } from '../../client/connection';
import { RecoveryError } from '../../client/errors';
import { WorkflowRecovery, type ResumeOutcome, type ResumeStrategy } from '../../client/workflow-recovery';
import { AdoError, FailureType } from '../../domain/errors';
import { openStore, storeConfigFromEnv } from '../../store';
import { cliConfigFromEnv } from '../config';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';

interface Recovery {
  resume(taskId: string, strategy: ResumeStrategy): Promise<ResumeOutcome>;
  migrate(taskId: string, version: string): Promise<string>;
}

export function registerRecoveryCommands(program: Command, ctx: CliContext): void {
  program
    .command('resume')
    .description('resume a failed, cancelled or terminated task from its latest checkpoint (reset to the last good point, or a new run)')
    .argument('<taskId>')
    .addOption(new Option('--strategy <how>', 'auto: reset when the history allows, else a new run').choices(['auto', 'reset', 'new-run']).default('auto'))
    .option('--json', 'print JSON', false)
    .action(async (taskId: string, opts: { strategy: ResumeStrategy; json: boolean }) => {
      const outcome = await withRecovery(ctx, (recovery) => recovery.resume(taskId, opts.strategy));
      if (opts.json) printJson(outcome);
      else printLine(outcome.message);
    });

  program
    .command('migrate')
    .description('move a task to a new workflow version: cancel it and start the new version with its plan and last green commit')
    .argument('<taskId>')
    .requiredOption('--to <version>', 'the version label of the new run (recorded as the WorkflowVersion search attribute)')
    .option('--json', 'print JSON', false)
    .action(async (taskId: string, opts: { to: string; json: boolean }) => {
      const workflowId = await withRecovery(ctx, (recovery) => recovery.migrate(taskId, opts.to));
      if (opts.json) printJson({ taskId, workflowId, version: opts.to });
      else printLine(`Migrated ${taskId} to ${opts.to}: the new run is workflow ${workflowId} (\`ado status ${workflowId}\`).`);
    });
}

/**
 * Recovery needs the store. A PostgreSQL store (ADO_DATABASE_URL) is opened here; the embedded
 * PGlite store has one opener, so while `ado dev` holds it the running stack's API does the work.
 */
async function withRecovery<T>(ctx: CliContext, use: (recovery: Recovery) => Promise<T>): Promise<T> {
  let store;
  try {
    store = await openStore({ ...storeConfigFromEnv(), logger: ctx.logger });
  } catch (err) {
    const apiUrl = readStackInfo()?.apiUrl;
    if (!(err instanceof AdoError && err.type === FailureType.StoreLocked && apiUrl)) throw err;
    return use(throughApi(apiUrl));
  }
  try {
    const recovery = new WorkflowRecovery(await ctx.temporal(), store, ctx.queuePrefix());
    return await use({
      resume: (taskId, strategy) => recovery.resumeFromCheckpoint(taskId, { strategy }),
      migrate: (taskId, version) => recovery.migrateWorkflow(taskId, version),
    });
  } finally {
    await store.close();
  }
}

function throughApi(apiUrl: string): Recovery {
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const token = cliConfigFromEnv(process.env).apiToken;
    const response = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as T & { detail?: string };
    if (!response.ok) throw new RecoveryError(json.detail ?? `The ADO API at ${apiUrl} answered ${response.status}.`);
    return json;
  };
  return {
    resume: (taskId, strategy) => post<ResumeOutcome>(`/api/tasks/${encodeURIComponent(taskId)}/resume`, { strategy }),
    migrate: async (taskId, version) => (await post<{ workflowId: string }>(`/api/tasks/${encodeURIComponent(taskId)}/migrate`, { to: version })).workflowId,
  };
}
