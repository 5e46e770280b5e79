import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStoreLocation, type FreshStoreLocation } from '../../test/helpers/postgres';
import { openStore } from './open-store';
import type { AdoStore } from './types';

let location: FreshStoreLocation;
let store: AdoStore;
beforeAll(async () => {
  location = await freshStoreLocation('pglite');
  store = await openStore(location.config);
});
afterAll(async () => {
  await store?.close();
  await location?.dispose();
});

describe('agent blobs', () => {
  it('keep the first value written under a key: a retried activity reads what the first attempt stored', async () => {
    expect(await store.agentBlobs.get('s/answer/1')).toBeUndefined();
    expect(await store.agentBlobs.putOnce('s/answer/1', 't', 'first')).toBe('first');
    expect(await store.agentBlobs.putOnce('s/answer/1', 't', 'second')).toBe('first');
    expect(await store.agentBlobs.get('s/answer/1')).toBe('first');
  });

  it('hold large text, unchanged', async () => {
    const big = 'x\n'.repeat(2_000_000);
    await store.agentBlobs.putOnce('s/observation/9', 't', big);
    expect(await store.agentBlobs.get('s/observation/9')).toBe(big);
  });
});
