import path from 'node:path';
import { z } from 'zod';
import { optionalVar, parseEnv } from './env-schema';

const homeEnvSchema = z.object({ ADO_HOME: optionalVar(z.string()) });

/** Where the embedded stack keeps its state: `$ADO_HOME`, default `.ado` in the working directory. */
export function adoHome(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return path.resolve(cwd, parseEnv(homeEnvSchema, env, 'ADO home').ADO_HOME ?? '.ado');
}

/** The folders under ADO home, one per subsystem. */
export function adoPaths(home: string) {
  return {
    home,
    /** Temporal dev server's SQLite file. */
    temporalDb: path.join(home, 'temporal.db'),
    /** PGlite data directory (the ADO store). */
    storeDir: path.join(home, 'store'),
    /** Bare git remotes shared by all workers of the embedded stack. */
    gitRemotes: path.join(home, 'git'),
    /** Payload encryption keys. */
    keys: path.join(home, 'keys'),
    /** Running stack's addresses, for commands started in another terminal. */
    stackFile: path.join(home, 'stack.json'),
    /** The pid of the Temporal dev server `ado dev` started, while it runs. */
    temporalPidFile: path.join(home, 'temporal-server.pid'),
  };
}
export type AdoPaths = ReturnType<typeof adoPaths>;
