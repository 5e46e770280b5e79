import { describe, expect, it } from 'vitest';
import { AdoError } from '../domain/errors';
import { apiConfigFromEnv } from './config';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';

function configError(env: NodeJS.ProcessEnv, overrides?: { host?: string }): AdoError {
  try {
    apiConfigFromEnv(env, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(AdoError);
    expect((err as AdoError).nonRetryable).toBe(true);
    return err as AdoError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('apiConfigFromEnv', () => {
  it('lets command-line overrides win over the environment', () => {
    expect(apiConfigFromEnv({ ADO_API_PORT: '9090', ADO_API_HOST: 'localhost' }, { port: 0, host: '127.0.0.1' })).toMatchObject({ host: '127.0.0.1', port: 0 });
  });

  it('listens on 127.0.0.1:8080 without tokens when nothing is set', () => {
    expect(apiConfigFromEnv({})).toEqual({ host: '127.0.0.1', port: 8080, auth: { tokens: [] } });
    expect(apiConfigFromEnv({ ADO_API_TOKENS: '', ADO_API_HOST: '', ADO_API_PORT: '' }).auth.tokens).toEqual([]);
  });

  it('reads name:token pairs, the name being the reviewer', () => {
    const config = apiConfigFromEnv({ ADO_API_TOKENS: ` alice:${ALICE} , bob:${BOB}`, ADO_API_HOST: '0.0.0.0', ADO_API_PORT: '9090' });
    expect(config).toEqual({ host: '0.0.0.0', port: 9090, auth: { tokens: [{ name: 'alice', token: ALICE }, { name: 'bob', token: BOB }] } });
  });

  it('refuses malformed, short, repeated or shared tokens, naming the variable and entry without echoing the token', () => {
    expect(configError({ ADO_API_TOKENS: `alice:${ALICE},${BOB}` }).message).toMatch(/ADO_API_TOKENS entry 2: expected name:token/);
    const short = configError({ ADO_API_TOKENS: 'alice:secret' });
    expect(short.message).toMatch(/ADO_API_TOKENS entry 1 \(alice\): the token must be at least 16 characters/);
    expect(short.message).not.toContain('secret');
    expect(configError({ ADO_API_TOKENS: `alice:${ALICE},alice:${BOB}` }).message).toContain('the name "alice" is given twice');
    const shared = configError({ ADO_API_TOKENS: `alice:${ALICE},bob:${ALICE}` });
    expect(shared.message).toContain('the same token is given to two names');
    expect(shared.message).not.toContain(ALICE);
    expect(configError({ ADO_API_TOKENS: `al ice:${ALICE}` }).message).toContain('the name may hold');
  });

  it('refuses a port that is not one, naming ADO_API_PORT', () => {
    expect(configError({ ADO_API_PORT: 'http' }).message).toMatch(/ADO_API_PORT: must be a port number/);
    expect(configError({ ADO_API_PORT: '70000' }).message).toMatch(/ADO_API_PORT: must be a port number/);
  });

  it('refuses a host beyond loopback without tokens, and allows it with tokens', () => {
    const open = configError({ ADO_API_HOST: '0.0.0.0' });
    expect(open.message).toContain('listening on 0.0.0.0 (ADO_API_HOST or --host)');
    expect(open.message).toContain('ADO_API_TOKENS');
    for (const host of ['localhost', '127.0.0.2', '::1', '[::1]']) expect(apiConfigFromEnv({ ADO_API_HOST: host }).host).toBe(host);
    expect(apiConfigFromEnv({ ADO_API_HOST: '0.0.0.0', ADO_API_TOKENS: `alice:${ALICE}` }).host).toBe('0.0.0.0');
    expect(configError({ ADO_API_HOST: '127.0.0.1' }, { host: '10.0.0.5' }).message).toContain('listening on 10.0.0.5');
  });
});
