import { describe, expect, it } from 'vitest';
import { FailureType } from '../domain/errors';
import { loggerOptionsFromEnv } from './logger';

describe('loggerOptionsFromEnv', () => {
  it('leaves level and format to the defaults when unset or empty', () => {
    expect(loggerOptionsFromEnv({ ADO_LOG_LEVEL: '', ADO_LOG_FORMAT: ' ' })).toEqual({ level: undefined, pretty: undefined });
  });

  it('reads the level, and json or pretty as the format', () => {
    expect(loggerOptionsFromEnv({ ADO_LOG_LEVEL: 'debug', ADO_LOG_FORMAT: 'json' })).toEqual({ level: 'debug', pretty: false });
    expect(loggerOptionsFromEnv({ ADO_LOG_FORMAT: 'pretty' })).toEqual({ level: undefined, pretty: true });
  });

  it('refuses an unknown level, naming the variable and the levels', () => {
    expect(() => loggerOptionsFromEnv({ ADO_LOG_LEVEL: 'verbose' })).toThrow(
      expect.objectContaining({ type: FailureType.InvalidConfig, message: expect.stringMatching(/ADO_LOG_LEVEL.*trace, debug, info/) }),
    );
  });
});
