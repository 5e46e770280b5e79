/** `ado run | status | list | cancel`: starting and following tasks. */
import { Option, type Command } from 'commander';
import { HITLHandler } from '../../client/hitl-handler';
import { checkRepository } from '../../client/repository';
import { agentConfigFromEnv } from '../../agent/config';
import { CODER_MODES, TASK_PHASES, type CoderMode, type TaskBudget, type TaskPhase } from '../../domain/task';
import type { CliContext } from '../context';
import { currentUser, duration, positiveInt, positiveNumber } from '../options';
import { describeReport, describeState, followLines, printJson, printLine } from '../output';

export function registerTaskCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('start a coding task on a repository')
    .argument('<prompt>', 'what to do, in words (quote it)')
    .requiredOption('-r, --repo <path|url>', 'the repository: a local git repository or a git URL')
    .option('-b, --branch <name>', 'base branch the pull request targets (default: the repository\'s current branch)', '')
    .option('--hitl', 'ask a human to approve the plan, a stuck task and the pull request', false)
    .option('--max-iterations <n>', 'code ⇄ test rounds before giving up', positiveInt, 10)
    .option('--approval-timeout <duration>', 'how long each approval may wait, e.g. 30m, 2h', duration)
    .option('--budget-tokens <n>', 'pause for a human when the task has used this many tokens', positiveInt)
    .option('--budget-cost <usd>', 'pause for a human when the task has cost this much (USD)', positiveNumber)
    .option('--budget-time <duration>', 'pause for a human when the task has run this long, e.g. 1h', duration)
    .addOption(
      new Option('--coder <mode>', 'how code is written: one JSON list of edits per iteration, or a tool-calling agent session (default: ADO_CODER_MODE, else one-shot)').choices(
        CODER_MODES,
      ),
    )
    .option('--max-agent-steps <n>', 'agent coder: tool calls per iteration at most', positiveInt)
    .option('--task-id <id>', 'choose the task id (default: generated)')
    .option('-w, --wait', 'follow the task: print each phase change, exit non-zero when it fails', false)
    .option('--json', 'print one JSON object (with --wait: the final state)', false)
    .action(async (prompt: string, opts: RunOptions) => {
      const { repository } = await checkRepository(opts.repo, opts.branch);
      const budget: TaskBudget = {
        maxTotalTokens: opts.budgetTokens,
        maxCostUsd: opts.budgetCost,
        maxDurationMs: opts.budgetTime,
      };
      const tasks = await ctx.tasks();
      const started = await tasks.start({
        taskId: opts.taskId,
        prompt,
        repository,
        branch: opts.branch,
        hitlEnabled: opts.hitl,
        maxIterations: opts.maxIterations,
        approvalTimeoutMs: opts.approvalTimeout,
        budget: Object.values(budget).some((v) => v !== undefined) ? budget : undefined,
        coder: opts.coder ?? agentConfigFromEnv(process.env).mode,
        maxAgentSteps: opts.maxAgentSteps,
      });
      if (!opts.wait) {
        if (opts.json) printJson(started);
        else {
          printLine(`Started task ${started.taskId} (workflow ${started.workflowId}, run ${started.runId}).`);
          printLine(`Follow it with: ado status ${started.taskId}`);
        }
        return;
      }
      if (!opts.json) printLine(`Started task ${started.taskId}; following it (Ctrl-C stops following, not the task).`);
      const outcome = await tasks.follow(started.taskId, (event) => {
        if (!opts.json) printLine(followLines(event));
      });
      const state = await tasks.state(started.taskId);
      if (opts.json) printJson({ ...started, ok: outcome.ok, outcome: outcome.phase, message: outcome.message, state });
      else printLine(`Task ${started.taskId} ${outcome.message}`);
      if (!outcome.ok) process.exitCode = 1;
    });

  program
    .command('status')
    .description("show a task's state: phase, iterations, errors, pending approval")
    .argument('<taskId>')
    .option('--json', 'print the taskState query result as JSON, with `running` (what runs now); without a worker\'s answer: what the server knows, and why', false)
    .action(async (taskId: string, opts: { json: boolean }) => {
      const report = await (await ctx.tasks()).report(taskId);
      if (opts.json) printJson(report.state ? { ...report.state, running: report.running } : report);
      else printLine(report.state ? describeState(report.state, report.status, report.running) : describeReport(report));
    });

  program
    .command('list')
    .description('list recent tasks, newest first')
    .addOption(new Option('--phase <phase>', 'only tasks in this phase').choices(TASK_PHASES))
    .option('--limit <n>', 'at most this many', positiveInt, 20)
    .option('--json', 'print JSON', false)
    .action(async (opts: { phase?: TaskPhase; limit: number; json: boolean }) => {
      const tasks = await (await ctx.tasks()).list({ phase: opts.phase, limit: opts.limit });
      if (opts.json) return printJson(tasks);
      if (tasks.length === 0) return printLine('No tasks yet. Start one with: ado run "<prompt>" --repo <path>');
      for (const t of tasks) {
        const age = formatAge(Date.now() - t.startTime.getTime());
        printLine(`${t.taskId.padEnd(22)} ${(t.phase ?? '?').padEnd(11)} ${t.status.padEnd(10)} ${age.padStart(6)}  ${t.repository ?? ''}`);
      }
    });

  program
    .command('cancel')
    .description('cancel a task: the running step stops, the sandbox is cleaned, the phase becomes cancelled')
    .argument('<taskId>')
    .option('--reason <text>', 'why (recorded in the task; uses the cancelTask signal)')
    .option('--json', 'print JSON', false)
    .action(async (taskId: string, opts: { reason?: string; json: boolean }) => {
      const hitl = new HITLHandler(await ctx.temporal());
      // A task that has ended throws DecisionRejectedError, which says so.
      await hitl.cancelWorkflow(taskId, { reason: opts.reason, requestedBy: currentUser(), via: opts.reason ? 'signal' : 'cancel' });
      if (opts.json) printJson({ taskId, cancelRequested: true });
      else printLine(`Cancellation of ${taskId} requested; \`ado status ${taskId}\` shows when it has stopped.`);
    });
}

interface RunOptions {
  repo: string;
  branch: string;
  hitl: boolean;
  maxIterations: number;
  approvalTimeout?: number;
  budgetTokens?: number;
  budgetCost?: number;
  budgetTime?: number;
  taskId?: string;
  coder?: CoderMode;
  maxAgentSteps?: number;
  wait: boolean;
  json: boolean;
}

function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
