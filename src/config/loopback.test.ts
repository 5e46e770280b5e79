import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback';

describe('isLoopbackHost', () => {
  it('accepts the addresses only this machine reaches, in any spelling', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
  });

  it('refuses everything else', () => {
    for (const host of ['0.0.0.0', '::', '[::]', '10.0.0.5', '128.0.0.1', 'localhost.example.com', '']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
