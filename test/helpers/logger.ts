/** A logger whose JSON lines a test reads back (`silentLogger` in src/telemetry/logger.ts drops them). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/telemetry/logger';

/** One parsed log line: pino's `level` number, the message and the line's fields. */
export type LogLine = { msg: string; level: number } & Record<string, unknown>;

export interface CapturingLogger {
  logger: Logger;
  /** Every line so far, parsed, in order. */
  lines: LogLine[];
  /** Everything written so far, as written (to check a secret appears nowhere). */
  text: () => string;
}

/** A JSON logger at `level` (default info) that keeps what it writes. */
export function capturingLogger(level = 'info'): CapturingLogger {
  const chunks: string[] = [];
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      chunks.push(text);
      for (const line of text.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), lines, text: () => chunks.join('') };
}
