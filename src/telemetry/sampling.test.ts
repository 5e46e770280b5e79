import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers/logger';
import { waitFor } from '../../test/helpers/workflow';
import { startSampling } from './sampling';

describe('startSampling', () => {
  it('keeps reading through failures, says so once when they start and once when they end', async () => {
    const { lines, logger } = capturingLogger();
    let reads = 0;
    const sampling = startSampling({
      what: 'test gauges',
      intervalMs: 1,
      logger,
      sample: async () => {
        reads++;
        if (reads >= 2 && reads <= 4) throw new Error('server unavailable');
      },
    });
    await waitFor(async () => (reads >= 6 ? true : undefined), 'six reads');
    await sampling.stop();
    const stoppedAt = reads;
    expect(lines.map((l) => l.msg)).toEqual(['Could not read metrics; the gauges keep their last values', 'Metrics reads work again']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads).toBe(stoppedAt);
  });
});
