/**
 * One structured logger for worker, activities and API: JSON lines by default, a human format
 * when writing to a terminal. Child loggers carry taskId/workflowId on every line.
 */
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { optionalVar, parseEnv } from '../config/env-schema';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface LoggerOptions {
  /** @default 'info' */
  level?: string;
  /** Human-readable output. @default true when stderr is a terminal */
  pretty?: boolean;
  name?: string;
  /** Where lines go. @default stderr (stdout is for command results such as `--json`) */
  destination?: NodeJS.WritableStream;
}

const loggingEnvSchema = z.object({
  ADO_LOG_LEVEL: optionalVar(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })),
  ADO_LOG_FORMAT: optionalVar(z.enum(['json', 'pretty'], { error: 'expected json or pretty' })),
});

/** `ADO_LOG_LEVEL` and `ADO_LOG_FORMAT` as logger options (unset ones stay at the defaults). */
export function loggerOptionsFromEnv(env: NodeJS.ProcessEnv): Pick<LoggerOptions, 'level' | 'pretty'> {
  const vars = parseEnv(loggingEnvSchema, env, 'logging');
  return { level: vars.ADO_LOG_LEVEL, pretty: vars.ADO_LOG_FORMAT === undefined ? undefined : vars.ADO_LOG_FORMAT === 'pretty' };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty) {
    return pino({
      level,
      name: options.name,
      transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } },
    });
  }
  return pino({ level, name: options.name, base: undefined }, options.destination ?? pino.destination(2));
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
