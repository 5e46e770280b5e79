/**
 * What escape probes prepare on the host and run inside the sandbox: listeners that count who
 * reaches them, one-liners that try a connection and print what happened, host files holding a
 * secret. Shared by `ado sandbox check` and the sandbox tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** Things to undo after a probe, last first. */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Runs every step, even after one failed. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the rest still runs.
      }
    }
  }
}

export interface HostListener {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP listener on a free port of `host` (default 127.0.0.1) that counts who connects. */
export async function hostListener(host = '127.0.0.1'): Promise<HostListener> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    // Probes exit as soon as they are connected: a reset is expected, not a failure.
    socket.on('error', () => undefined);
    socket.end('hello from the host\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
  return { port: address.port, connections: () => accepted, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A node one-liner that connects to host:port and prints CONNECTED, or BLOCKED and the error code. */
export function connectCommand(host: string, port: number): string {
  const js =
    `require('net').connect(${port}, '${host}')` +
    `.on('connect', () => { console.log('CONNECTED'); process.exit(0); })` +
    `.on('error', (e) => { console.log('BLOCKED ' + e.code); process.exit(3); })` +
    `.setTimeout(5000, () => { console.log('BLOCKED TIMEOUT'); process.exit(3); })`;
  return `node -e "${js}"`;
}

/**
 * A curl that asks the sandbox's egress proxy for a tunnel to host:port (even where NO_PROXY
 * would send it directly) and prints `PROXY <status of the CONNECT answer>` (000: no answer at all).
 */
export function proxyConnectCommand(host: string, port: number): string {
  const target = host.includes(':') ? `[${host}]` : host;
  return `echo "PROXY $(curl -s -o /dev/null -m 10 -w '%{http_connect}' --noproxy '' -x http://127.0.0.1:3128 https://${target}:${port}/)"`;
}

/** This machine's first IPv4 address that is not loopback: where services bound to 0.0.0.0 are reachable too. */
export function hostAddress(): string {
  const address = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  if (address === undefined) throw new Error('this machine has no IPv4 address besides loopback');
  return address;
}

/** Host processes whose command line (NUL-separated arguments) contains `marker`. */
export function hostProcessesWith(marker: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false; // exited while we looked
      }
    });
}

/** A command that allocates memory until an allocation fails. */
export const ALLOCATE_FOREVER = 'node -e "const kept = []; for (;;) kept.push(Buffer.alloc(1e7, 1))"';
