/** `ado resume | migrate`: bring a task back from its checkpoints, or move it to a new version. */
import { Option, type Command } from 'commander';
import { WorkflowRecovery, type ResumeStrategy } from '../../client/workflow-recovery';
import { openStore, storeConfigFromEnv } from '../../store';
import type { AdoStore } from '../../store/types';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';

export function registerRecoveryCommands(program: Command, ctx: CliContext): void {
  program
    .command('resume')
    .description('resume a failed, cancelled or terminated task from its latest checkpoint (reset to the last good point, or a new run)')
    .argument('<taskId>')
    .addOption(new Option('--strategy <how>', 'auto: reset when the history allows, else a new run').choices(['auto', 'reset', 'new-run']).default('auto'))
    .option('--json', 'print JSON', false)
    .action(async (taskId: string, opts: { strategy: ResumeStrategy; json: boolean }) => {
      const outcome = await withRecovery(ctx, (recovery) => recovery.resumeFromCheckpoint(taskId, { strategy: opts.strategy }));
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
      const workflowId = await withRecovery(ctx, (recovery) => recovery.migrateWorkflow(taskId, opts.to));
      if (opts.json) printJson({ taskId, workflowId, version: opts.to });
      else printLine(`Migrated ${taskId} to ${opts.to}: the new run is workflow ${workflowId} (\`ado status ${workflowId}\`).`);
    });
}

async function withRecovery<T>(ctx: CliContext, use: (recovery: WorkflowRecovery) => Promise<T>): Promise<T> {
  const client = await ctx.temporal();
  const store: AdoStore = await openStore({ ...storeConfigFromEnv(), logger: ctx.logger });
  try {
    return await use(new WorkflowRecovery(client, store, ctx.queuePrefix()));
  } finally {
    await store.close();
  }
}
