/**
 * The `ado` command line. Every failure ends as one line that says what is wrong and what to do,
 * and a non-zero exit code; nothing is started or changed by a command that failed validation.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { AdoError } from '../domain/errors';
import { createLogger, loggerOptionsFromEnv } from '../telemetry/logger';
import { cliConfigFromEnv } from './config';
import { CliContext } from './context';
import { registerDecisionCommands } from './commands/decide';
import { registerTaskCommands } from './commands/tasks';
import { registerRecoveryCommands } from './commands/recovery';
import { registerServerCommands } from './commands/servers';
import { registerApiCommand } from './commands/api';
import { registerSandboxCommands } from './commands/sandbox';
import { registerGitServerCommand } from './commands/git-server';

export function buildProgram(ctx?: CliContext): { program: Command; ctx: CliContext } {
  const program = new Command('ado')
    .description('Autonomous Development Orchestrator: durable coding tasks on Temporal')
    .option('--address <host:port>', 'Temporal server (default: TEMPORAL_ADDRESS, a profile, a running `ado dev`, or localhost:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or "default")')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const context = ctx ?? new CliContext(() => program.opts<{ address?: string; namespace?: string }>(), () => createLogger(loggerOptionsFromEnv(process.env)));
  registerTaskCommands(program, context);
  registerDecisionCommands(program, context);
  registerRecoveryCommands(program, context);
  registerServerCommands(program, context);
  registerApiCommand(program, context);
  registerSandboxCommands(program, context);
  registerGitServerCommand(program, context);
  return { program, ctx: context };
}

export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  let debug = false;
  try {
    debug = cliConfigFromEnv(process.env).debug;
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, { json: argv.includes('--json'), debug });
  } finally {
    await ctx.close();
  }
}

function version(): string {
  // package.json sits two folders up from both src/cli and dist/cli.
  return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function reportError(err: unknown, { json, debug }: { json: boolean; debug: boolean }): number {
  // An InvalidArgumentError that gets here was thrown by an action, not by commander's parsing:
  // nobody printed it, so it is reported below like any user error.
  if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) {
    // Commander printed the message (or help/version) itself.
    return err.exitCode === 0 ? 0 : 2;
  }
  // Errors whose message is already the whole story for a user: every AdoError (the client
  // library's included), and a bad option value.
  const known = err instanceof AdoError || err instanceof InvalidArgumentError;
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { type: err instanceof Error ? err.name : 'Error', message } })}\n`);
  } else if (known) {
    process.stderr.write(`ado: ${message}\n`);
  } else {
    process.stderr.write(`ado: unexpected error: ${message}\n`);
    if (debug) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    else process.stderr.write('(set ADO_DEBUG=1 for the stack trace)\n');
  }
  return 1;
}

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}
