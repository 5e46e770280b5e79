/**
 * Routes the Temporal SDK's logs (worker, workflow `log`, activity `log`, native core) into ADO's
 * logger, so there is one log stream with one format. Call once per process, before any worker
 * or native connection exists.
 */
import pino from 'pino';
import { Runtime, makeTelemetryFilterString, type Logger as TemporalLogger, type TelemetryOptions } from '@temporalio/worker';
import { IllegalStateError, type LogLevel, type LogMetadata } from '@temporalio/common';
import type { Logger } from './logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** A Temporal `Logger` writing into a pino logger; the SDK's metadata becomes fields. */
class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // Expected for activity-only pools (code, review): not worth a warning.
    const demoted = message.startsWith('No workflows registered') ? 'debug' : LEVELS[level];
    // The SDK passes failures as `error`; pino serializes only `err`, so an Error would log as {}.
    const error = meta?.error instanceof Error ? { error: pino.stdSerializers.err(meta.error) } : {};
    this.logger[demoted]({ ...meta, ...error, sdk: true }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

/**
 * Installs the Temporal runtime with ADO's logger (SDK messages below `sdkLevel` are dropped:
 * the SDK is chatty at INFO) and telemetry (metrics). Safe to call more than once; only the
 * first successful call counts, and a runtime installed by someone else is left as it is.
 * Returns whether this call installed it (false: a runtime was there already).
 */
export function installTemporalRuntime(logger: Logger, options: { sdkLevel?: LogLevel; telemetryOptions?: TelemetryOptions } = {}): boolean {
  if (installed) return false;
  const level = options.sdkLevel ?? 'WARN';
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(logger.child({}, { level: LEVELS[level] })),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }), forward: {} }, ...options.telemetryOptions },
    });
    installed = true;
    return true;
  } catch (err) {
    // Installed already by whoever runs us (a test with its own telemetry): theirs stands.
    // Any other failure (a metrics port in use) leaves the way open for another attempt.
    if (!(err instanceof IllegalStateError)) throw err;
    installed = true;
    return false;
  }
}
