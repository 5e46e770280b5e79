/**
 * Gauges read from somewhere else (the Temporal server) on an interval. A failed read never stops
 * the sampling nor the process around it: it is logged once when it starts failing, and again
 * when it recovers.
 */
import type { Logger } from './logger';

export interface Sampling {
  /** Stops the interval; resolves once a read in progress has finished. */
  stop(): Promise<void>;
}

export interface SamplingOptions {
  /** What is read, for log lines. */
  what: string;
  /** Reads and sets the gauges; may throw. */
  sample: () => Promise<void>;
  intervalMs: number;
  logger: Logger;
}

/** Runs `sample` now and then `intervalMs` after each read ends (reads never overlap). */
export function startSampling({ what, sample, intervalMs, logger }: SamplingOptions): Sampling {
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let current = Promise.resolve();

  async function read(): Promise<void> {
    try {
      await sample();
      if (failing) logger.info({ what }, 'Metrics reads work again');
      failing = false;
    } catch (err) {
      if (!failing) logger.warn({ what, error: (err as Error).message }, 'Could not read metrics; the gauges keep their last values');
      failing = true;
    }
  }

  function next(): void {
    current = read().finally(() => {
      // unref: a sampler never keeps a process alive.
      if (!stopped) timer = setTimeout(next, intervalMs).unref();
    });
  }

  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
