import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { freePort } from '../../test/helpers/postgres';
import { openStore } from './open-store';

describe('openStore', () => {
  it('refuses to open without a server URL or a data directory', async () => {
    const err = await openStore({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    expect((err as Error).message).toMatch(/databaseUrl.*dataDir/);
  });

  it('names the server it cannot reach, and not the password', async () => {
    const port = await freePort();
    const err = await openStore({ databaseUrl: `postgres://ado:hunter2@127.0.0.1:${port}/ado` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdoError);
    expect(err).toMatchObject({ type: FailureType.StoreOpenFailed });
    const { message, cause } = err as AdoError;
    expect(message).toContain(`127.0.0.1:${port}/ado`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('hunter2');
    expect(cause).toBeInstanceOf(Error);
  });
});
