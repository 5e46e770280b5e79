import { describe, expect, it } from 'vitest';
import { closeAll } from './close-all';

describe('closeAll', () => {
  it('closes last first', async () => {
    const closed: string[] = [];
    await closeAll(['plumbing', 'server', 'workers'].map((name) => async () => void closed.push(name)));
    expect(closed).toEqual(['workers', 'server', 'plumbing']);
  });

  it('runs every closer when some throw, and throws what they threw', async () => {
    const closed: string[] = [];
    const closer = (name: string, error?: Error) => async () => {
      closed.push(name);
      if (error) throw error;
    };
    const one = new Error('api would not close');
    await expect(closeAll([closer('server'), closer('api', one)])).rejects.toBe(one);
    expect(closed).toEqual(['api', 'server']);

    closed.length = 0;
    const both = closeAll([closer('server', new Error('server stuck')), closer('store'), closer('api', new Error('api stuck'))]);
    await expect(both).rejects.toThrow(AggregateError);
    await expect(both).rejects.toThrow('2 parts failed to stop: api stuck; server stuck');
    expect(closed).toEqual(['api', 'store', 'server']);
  });
});
