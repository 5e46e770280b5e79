/**
 * The only way out of a sandbox that asked for network: an HTTPS proxy on a unix socket that
 * opens tunnels (`CONNECT host:443`) to the hosts the operator allows (the package registries by
 * default) and to nothing else. The sandbox itself keeps no network of its own (its network
 * namespace has only its loopback), so it reaches neither this machine's loopback services
 * (Temporal, the API, the codec endpoint), nor services on its other addresses, nor the networks
 * around it (a cloud's metadata address, a database), whatever the sandboxed code tries.
 *
 * A tunnel is opened to the address the allowed name resolves to on this machine; an address on
 * loopback, link-local or unspecified is refused even then (a name that resolves there must not
 * lead to the control plane). What is refused gets a 403 that names the rule, and a warning line.
 */
import { lookup } from 'node:dns/promises';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../telemetry/logger';

/** A host the sandbox may reach: an exact name (or IP address), or `*.domain` for any name under it. */
export interface EgressRule {
  host: string;
  port: number;
}

/** The package registries ADO's README names: npm, PyPI, the Go module proxy, crates.io, Maven Central. */
export const DEFAULT_EGRESS_RULES: readonly EgressRule[] = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'proxy.golang.org',
  'sum.golang.org',
  'index.crates.io',
  'static.crates.io',
  'crates.io',
  'repo.maven.apache.org',
  'repo1.maven.org',
].map((host) => ({ host, port: 443 }));

/** File name of the proxy's socket in its folder (the folder is what the sandbox sees). */
export const EGRESS_SOCKET_NAME = 'proxy.sock';

/** Connections the proxy serves at once, all sandboxes together. */
const MAX_CONNECTIONS = 256;
/** A tunnel idle this long is closed. */
const IDLE_TIMEOUT_MS = 5 * 60_000;
const CONNECT_TIMEOUT_MS = 30_000;

export interface EgressProxy {
  /** Folder holding the socket (`EGRESS_SOCKET_NAME`): bind it into the sandbox. */
  dir: string;
  close(): Promise<void>;
}

/** Whether `rules` let a tunnel to `host:port` be opened. */
export function egressAllowed(rules: readonly EgressRule[], host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return rules.some((rule) => rule.port === port && (rule.host.startsWith('*.') ? name.endsWith(rule.host.slice(1)) : name === rule.host));
}

/** Addresses no tunnel may lead to: this machine's loopback, link-local (cloud metadata), unspecified, multicast. */
export function forbiddenAddress(address: string): boolean {
  const ip = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (net.isIPv4(ip)) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254) || a >= 224;
  }
  return ip === '::' || ip === '::1' || /^fe[89ab]/.test(ip) || ip.startsWith('ff');
}

/** `host:port` of a CONNECT request (IPv6 in brackets), or undefined when it is not one. */
function connectTarget(url: string | undefined): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/\s]+):(\d{1,5})$/i.exec(url ?? '');
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port } : undefined;
}

function refuse(socket: Duplex, status: '400 Bad Request' | '403 Forbidden' | '502 Bad Gateway', reason: string): void {
  const body = `ADO egress proxy: ${reason}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Starts the proxy on a unix socket in a new folder under the system temp folder, reachable by any
 * local user (it gives nothing a user of this machine does not have already). Its server does not
 * keep the process alive.
 */
export async function startEgressProxy(options: { rules: readonly EgressRule[]; logger?: Logger }): Promise<EgressProxy> {
  const { rules, logger } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-egress-'));
  const socketPath = path.join(dir, EGRESS_SOCKET_NAME);
  const allowedList = rules.map((r) => (r.port === 443 ? r.host : `${r.host}:${r.port}`)).join(', ');

  const server = http.createServer((request, response) => {
    // Plain-HTTP proxying would let a sandbox read any page of an allowed host without TLS: tunnels only.
    response.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(`ADO egress proxy: only HTTPS through CONNECT is allowed (asked for ${request.method ?? '?'} ${request.url ?? ''})\n`);
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connect', (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => undefined);
    const target = connectTarget(request.url);
    if (!target) return refuse(client, '400 Bad Request', `expected CONNECT host:port, got ${JSON.stringify(request.url)}`);
    const where = `${target.host}:${target.port}`;
    if (!egressAllowed(rules, target.host, target.port)) {
      logger?.warn({ target: where }, 'sandbox egress refused: not an allowed host');
      return refuse(client, '403 Forbidden', `${where} is not among the hosts sandboxes may reach (${allowedList}); an operator can allow more with ADO_SANDBOX_EGRESS_HOSTS`);
    }
    void openTunnel(target, client, head).catch((err: unknown) => {
      logger?.warn({ target: where, err }, 'sandbox egress refused');
      refuse(client, err instanceof RefusedAddress ? '403 Forbidden' : '502 Bad Gateway', (err as Error).message);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  server.unref();
  // The folder lets others through, the socket lets them connect: the sandbox runs as another user.
  await chmod(dir, 0o711);
  await chmod(socketPath, 0o666);
  return {
    dir,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Thrown when an allowed name resolves only to addresses no tunnel may lead to. */
class RefusedAddress extends Error {}

async function openTunnel(target: { host: string; port: number }, client: Duplex, head: Buffer): Promise<void> {
  const addresses = (await lookup(target.host, { all: true })).map((a) => a.address);
  const usable = addresses.filter((address) => !forbiddenAddress(address));
  if (usable.length === 0) {
    throw new RefusedAddress(`${target.host} resolves to ${addresses.join(', ')}: loopback and link-local addresses are never reachable from a sandbox`);
  }
  const upstream = net.connect({ host: usable[0], port: target.port });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      upstream.destroy();
      reject(new Error(`${target.host}:${target.port} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    upstream.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    upstream.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${target.host}:${target.port}: ${err.message}`));
    });
  });
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  for (const side of [upstream, client]) {
    side.on('error', close);
    side.on('close', close);
  }
  upstream.setTimeout(IDLE_TIMEOUT_MS, close);
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
}
