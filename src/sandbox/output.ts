/**
 * Collects a run's stdout and stderr up to a byte cap. Past the cap it keeps reading (a writer
 * blocked on a full pipe would never finish) but discards, and keeps only a short tail so that
 * a failure printed at the very end (out of memory...) can still be recognised.
 */

const TAIL_BYTES = 8 * 1024;

/**
 * The most output kept in memory, whatever a run's limit says: a run's output becomes one string,
 * and a worker must not hold (or fail to build) hundreds of megabytes of it. Ceilings above this
 * are refused (config.ts).
 */
export const MAX_KEPT_OUTPUT_BYTES = 64 * 1024 ** 2;

export class OutputCollector {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tailBuffer = Buffer.alloc(0);
  private seen = 0;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = Math.min(maxBytes, MAX_KEPT_OUTPUT_BYTES);
  }

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    const room = this.maxBytes - this.headBytes;
    if (room > 0) {
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.head.push(kept);
      this.headBytes += kept.length;
    }
    const joined = Buffer.concat([this.tailBuffer, chunk]);
    this.tailBuffer = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
  }

  /** True once more bytes arrived than the cap allows. */
  get truncated(): boolean {
    return this.seen > this.maxBytes;
  }

  /** The kept output; when cut, it ends with a line saying where. */
  text(): string {
    const kept = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return kept;
    return `${kept}${kept.endsWith('\n') ? '' : '\n'}[output truncated after ${this.maxBytes} bytes]\n`;
  }

  /** The last few KiB seen, kept or not. */
  tail(): string {
    return this.tailBuffer.toString('utf8');
  }
}
