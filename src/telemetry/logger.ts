/**
 * One structured logger for worker, activities and API: JSON lines by default, a human format
 * when writing to a terminal. Child loggers carry taskId/workflowId on every line.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; default: when stderr is a terminal. */
  pretty?: boolean;
  name?: string;
  /** Where lines go; default stderr (stdout is for command results such as `--json`). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.ADO_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (process.stderr.isTTY === true && process.env.ADO_LOG_FORMAT !== 'json');
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
