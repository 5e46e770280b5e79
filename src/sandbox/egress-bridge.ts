/**
 * Inside a sandbox with network: the sandbox's network namespace has only its own loopback, and
 * package managers speak to proxies over TCP, not unix sockets. So the command runs under a small
 * bridge (node, run with `node -e`): it listens on the sandbox's 127.0.0.1, forwards each
 * connection to the egress proxy's socket bound into the sandbox, starts the command once it
 * listens, and ends as the command ends (same exit code, or the same signal). The bridge is
 * sandboxed code like any other: the command may kill or replace it, and reaches no further.
 */

import { EGRESS_SOCKET_NAME } from './egress-proxy';

/** Where the proxy's socket folder appears inside the sandbox. */
export const EGRESS_DIR_INSIDE = '/run/ado-egress';

/** The port the bridge listens on, on the sandbox's own loopback. */
export const BRIDGE_PORT = 3128;

/** The environment that sends package managers (npm, pip, go, cargo, curl…) through the bridge. */
export function proxyEnvironment(): Record<string, string> {
  const proxy = `http://127.0.0.1:${BRIDGE_PORT}`;
  const direct = 'localhost,127.0.0.1,::1';
  return { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, https_proxy: proxy, http_proxy: proxy, NO_PROXY: direct, no_proxy: direct };
}

/** Arguments: port, socket path, then the command and its arguments. Plain CommonJS: it runs in any node. */
const BRIDGE_SOURCE = `
const net = require('node:net');
const { spawn } = require('node:child_process');
const [port, socketPath, file, ...args] = process.argv.slice(1);
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  const close = () => { client.destroy(); upstream.destroy(); };
  for (const side of [client, upstream]) { side.on('error', close); side.on('close', close); }
  client.pipe(upstream).pipe(client);
});
server.on('error', (err) => { console.error('ADO egress bridge: ' + err.message); process.exit(125); });
server.listen(Number(port), '127.0.0.1', () => {
  const child = spawn(file, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => { console.error('ADO egress bridge: ' + err.message); process.exit(127); });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
});
`;

/** The argument list that runs `command` (file and arguments) under the bridge with `node`. */
export function bridgedCommand(nodePath: string, command: readonly string[]): string[] {
  return [nodePath, '-e', BRIDGE_SOURCE, String(BRIDGE_PORT), `${EGRESS_DIR_INSIDE}/${EGRESS_SOCKET_NAME}`, ...command];
}
