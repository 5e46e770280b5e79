import { describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { cliConfigFromEnv } from './config';

describe('cliConfigFromEnv', () => {
  it('prints no stack traces and sends no token by default', () => {
    expect(cliConfigFromEnv({ ADO_DEBUG: '', ADO_API_TOKEN: '' })).toEqual({ debug: false, apiToken: undefined });
  });

  it('reads ADO_DEBUG as 1/true or 0/false, and the API token as given', () => {
    expect(cliConfigFromEnv({ ADO_DEBUG: '1', ADO_API_TOKEN: 'tok-123' })).toEqual({ debug: true, apiToken: 'tok-123' });
    expect(cliConfigFromEnv({ ADO_DEBUG: 'false' }).debug).toBe(false);
    expect(() => cliConfigFromEnv({ ADO_DEBUG: 'yes' })).toThrow(expect.objectContaining({ type: FailureType.InvalidConfig, message: expect.stringContaining('ADO_DEBUG') }));
  });
});
