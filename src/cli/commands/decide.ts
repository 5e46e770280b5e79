/** `ado approve | reject`: decide the pending checkpoint of a task. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { HITLHandler } from '../../client/hitl-handler';
import { CHECKPOINTS, type ApprovalDecision, type CheckpointName } from '../../domain/task';
import { decisionProblem } from '../../workflows/messages';
import type { CliContext } from '../context';
import { printJson, printLine } from '../output';
import { currentUser, positiveInt } from '../options';

interface DecideOptions {
  checkpoint?: CheckpointName;
  comment?: string;
  reviewer?: string;
  signal: boolean;
  budgetTokens?: number;
  revise?: boolean;
  json: boolean;
}

export function registerDecisionCommands(program: Command, ctx: CliContext): void {
  for (const approved of [true, false]) {
    const name = approved ? 'approve' : 'reject';
    const command = program
      .command(name)
      .description(`${name} the checkpoint a task waits at (plan, stuck, pr or budget)`)
      .argument('<taskId>')
      .addOption(new Option('-c, --checkpoint <name>', 'only if the task waits at this checkpoint').choices(CHECKPOINTS))
      .option('-m, --comment <text>', 'why (recorded with the decision)')
      .option('--reviewer <name>', 'who decides (default: your user name)')
      .option('--signal', 'send the humanApproval signal (fire and forget) instead of the validated update', false)
      .option('--json', 'print JSON', false);
    if (approved) command.option('--budget-tokens <n>', 'at the budget checkpoint: the new token limit', positiveInt);
    else command.option('--revise', 'at the pr checkpoint: send the task back to coding with --comment (what to change) instead of failing it', false);
    command.action(async (taskId: string, opts: DecideOptions) => {
      const decision: ApprovalDecision = {
        approved,
        checkpoint: opts.checkpoint,
        reviewer: opts.reviewer ?? currentUser(),
        comment: opts.comment,
        channel: 'cli',
        budget: opts.budgetTokens ? { maxTotalTokens: opts.budgetTokens } : undefined,
        revise: opts.revise || undefined,
      };
      const problem = decisionProblem(decision);
      if (problem) throw new InvalidArgumentError(problem.field === 'comment' ? `${problem.message} Add --comment "…".` : problem.message);
      const hitl = new HITLHandler(await ctx.temporal());
      const accepted = await hitl.sendApproval(taskId, decision, { via: opts.signal ? 'signal' : 'update' });
      if (opts.json) printJson(accepted ?? { taskId, signalled: true, approved });
      else if (accepted) printLine(`${approved ? 'Approved' : opts.revise ? 'Sent back for changes' : 'Rejected'} "${accepted.checkpoint}" of task ${taskId}.`);
      else printLine(`Sent the humanApproval signal to ${taskId}; \`ado status ${taskId}\` shows whether it counted.`);
    });
  }
}

