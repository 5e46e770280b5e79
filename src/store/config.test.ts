import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { storeConfigFromEnv } from './config';

describe('storeConfigFromEnv', () => {
  const cwd = '/srv/ado';

  it('places the embedded store under .ado in the working directory by default', () => {
    expect(storeConfigFromEnv({}, cwd)).toEqual({ dataDir: path.join(cwd, '.ado', 'store') });
  });

  it('places the embedded store under ADO_HOME, relative to the working directory', () => {
    expect(storeConfigFromEnv({ ADO_HOME: '/var/lib/ado' }, cwd)).toEqual({ dataDir: '/var/lib/ado/store' });
    expect(storeConfigFromEnv({ ADO_HOME: 'state' }, cwd)).toEqual({ dataDir: path.join(cwd, 'state', 'store') });
  });

  it.each(['postgres://ado:secret@db.internal:5432/ado', 'postgresql://db.internal/ado'])('uses a PostgreSQL server for ADO_DATABASE_URL=%s', (url) => {
    expect(storeConfigFromEnv({ ADO_DATABASE_URL: url, ADO_HOME: '/var/lib/ado' }, cwd)).toEqual({ databaseUrl: url });
  });

  it('treats an empty ADO_DATABASE_URL as unset', () => {
    expect(storeConfigFromEnv({ ADO_DATABASE_URL: '' }, cwd)).toEqual({ dataDir: path.join(cwd, '.ado', 'store') });
  });

  it.each(['mysql://ado:secret@db/ado', 'secret not a url'])('refuses ADO_DATABASE_URL=%s without echoing it', (url) => {
    let error: unknown;
    try {
      storeConfigFromEnv({ ADO_DATABASE_URL: url }, cwd);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AdoError);
    expect(error).toMatchObject({ type: FailureType.InvalidConfig, nonRetryable: true });
    const { message } = error as AdoError;
    expect(message).toContain('ADO_DATABASE_URL');
    expect(message).toContain('postgres://');
    expect(message).not.toContain('secret');
  });
});
