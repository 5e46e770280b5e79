/** `ado git-server`: the shared remotes over smart HTTP, for workers that share no disk. */
import path from 'node:path';
import type { Command } from 'commander';
import { gitServerTokenFromEnv } from '../../git-server/config';
import { startGitServer } from '../../git-server/server';
import type { CliContext } from '../context';
import { listenPort, untilSignal } from '../options';
import { printLine } from '../output';

/** Adds `ado git-server` to the program. */
export function registerGitServerCommand(program: Command, ctx: CliContext): void {
  program
    .command('git-server')
    .description('serve the shared git remotes over HTTP with a token (ADO_GIT_SERVER_TOKEN); workers set ADO_GIT_REMOTES to its URL')
    .requiredOption('--root <folder>', 'folder of the bare repositories')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on, 0 for a free one', (v: string) => listenPort(v, true), 0)
    .action(async (opts: { root: string; host: string; port: number }) => {
      const token = gitServerTokenFromEnv(process.env);
      const server = await startGitServer({ root: path.resolve(opts.root), token, host: opts.host, port: opts.port, logger: ctx.logger });
      printLine(`ADO git server: ${server.url}/<name>.git (repositories in ${path.resolve(opts.root)}); set ADO_GIT_REMOTES=${server.url}`);
      await untilSignal();
      await server.close();
    });
}
