import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS_RULES, EGRESS_SOCKET_NAME, egressAllowed, forbiddenAddress, startEgressProxy, type EgressProxy } from './egress-proxy';

describe('egressAllowed', () => {
  const rules = [...DEFAULT_EGRESS_RULES, { host: '*.corp.example', port: 8443 }];

  it('allows the listed names on their port, and names under a wildcard, in any case', () => {
    expect(egressAllowed(rules, 'registry.npmjs.org', 443)).toBe(true);
    expect(egressAllowed(rules, 'PyPI.org.', 443)).toBe(true);
    expect(egressAllowed(rules, 'nexus.corp.example', 8443)).toBe(true);
  });

  it('refuses other names, other ports, look-alikes and the wildcard domain itself', () => {
    expect(egressAllowed(rules, 'registry.npmjs.org', 80)).toBe(false);
    expect(egressAllowed(rules, 'registry.npmjs.org.evil.example', 443)).toBe(false);
    expect(egressAllowed(rules, 'evilcorp.example', 8443)).toBe(false);
    expect(egressAllowed(rules, 'corp.example', 8443)).toBe(false);
    expect(egressAllowed(rules, '127.0.0.1', 443)).toBe(false);
  });
});

describe('forbiddenAddress', () => {
  it('refuses loopback, link-local (metadata), unspecified and multicast, in IPv4, IPv6 and mapped form', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '0.0.0.0', '169.254.169.254', '224.0.0.1', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', 'ff02::1']) {
      expect(forbiddenAddress(address), address).toBe(true);
    }
    for (const address of ['104.16.0.35', '10.1.2.3', '192.168.1.10', '2606:4700::6810:1', 'fd00::5']) expect(forbiddenAddress(address), address).toBe(false);
  });
});

describe('the egress proxy', () => {
  let proxy: EgressProxy;
  let target: net.Server;
  let targetPort = 0;
  let connections = 0;

  beforeAll(async () => {
    target = net.createServer((socket) => {
      connections += 1;
      socket.end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as net.AddressInfo).port;
    // Even a rule naming loopback does not open a tunnel to it.
    proxy = await startEgressProxy({ rules: [{ host: 'localhost', port: targetPort }] });
  });
  afterAll(async () => {
    await proxy?.close();
    await new Promise<void>((resolve) => target?.close(() => resolve()));
  });

  /** The status line the proxy answers a CONNECT with. */
  function connect(authority: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: path.join(proxy.dir, EGRESS_SOCKET_NAME), method: 'CONNECT', path: authority });
      request.on('connect', (response, socket) => {
        socket.destroy();
        resolve(`${response.statusCode}`);
      });
      request.on('response', (response) => resolve(`${response.statusCode}`));
      request.on('error', reject);
      request.end();
    });
  }

  it('refuses hosts that are not allowed, and allowed names that resolve to loopback, with 403', async () => {
    expect(await connect(`127.0.0.1:${targetPort}`)).toBe('403');
    expect(await connect(`localhost:${targetPort}`)).toBe('403');
    expect(await connect('no-port-here')).toBe('400');
    expect(connections).toBe(0);
  });
});
