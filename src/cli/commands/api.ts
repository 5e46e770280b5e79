/** `ado api`: the HTTP API and web console alone, against the configured Temporal server and store. */
import type { Command } from 'commander';
import { apiConfigFromEnv } from '../../api/config';
import { startApiForStack } from '../../api/launch';
import { deploymentConfigFromEnv } from '../../config/deployment';
import { adoHome } from '../../config/paths';
import { notificationConfigFromEnv } from '../../notifications/config';
import { prConfigFromEnv } from '../../pr/config';
import { useGitCredentials } from '../../worker/wiring';
import { openStore, storeConfigFromEnv } from '../../store';
import type { CliContext } from '../context';
import { listenPort, untilSignal } from '../options';
import { printLine } from '../output';

/** Adds `ado api` to the program. */
export function registerApiCommand(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .description(
      'serve the HTTP API and web console against the configured Temporal server and ADO store (ADO_API_TOKENS, ADO_API_HOST, ADO_API_PORT; `ado dev` serves them itself)',
    )
    .option('--host <address>', 'address to listen on (default: ADO_API_HOST or 127.0.0.1)')
    .option('--port <n>', 'port to listen on, 0 for a free one (default: ADO_API_PORT or 8080)', (v: string) => listenPort(v, true))
    .action(async (opts: { host?: string; port?: number }) => {
      const env = process.env;
      // Bad settings fail here, before anything is connected or opened.
      apiConfigFromEnv(env, opts);
      notificationConfigFromEnv(env);
      // The API checks a task's repository when it starts: on the shared git server, or a private GitHub one.
      useGitCredentials(deploymentConfigFromEnv(env, adoHome(env)), prConfigFromEnv(env));
      const logger = ctx.logger;
      const settings = ctx.settings();
      const client = await ctx.temporal();
      const store = await openStore({ ...storeConfigFromEnv(env), logger });
      try {
        const api = await startApiForStack({ client, queuePrefix: ctx.queuePrefix(), store, logger, env, host: opts.host, port: opts.port });
        printLine(`ADO API and console: ${api.url}  (Temporal ${settings.address}, namespace ${settings.namespace}; store: ${store.driver})`);
        printLine(
          api.authRequired
            ? 'Auth: on. Requests need "Authorization: Bearer <token>" with a token from ADO_API_TOKENS; the console asks for it once.'
            : 'Auth: off (ADO_API_TOKENS is unset): no token needed, and only this machine can connect.',
        );
        printLine('Press Ctrl-C to stop.');
        await untilSignal();
        await api.close();
      } finally {
        await store.close();
      }
    });
}
