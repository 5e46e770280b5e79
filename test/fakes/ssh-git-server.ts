/**
 * A git host reached over SSH, for tests: a real SSH server (the `ssh2` library) on a free
 * loopback port that accepts one client key and runs git's own `upload-pack`/`receive-pack` for
 * the repository a command names, the way a git host's forced command does. The client side is
 * the machine's real OpenSSH, as a worker in the container image uses it. Host and client keys
 * come from `ssh-keygen`; `sshCommand` is the GIT_SSH_COMMAND an operator would configure.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Server, utils, type Connection } from 'ssh2';

const run = promisify(execFile);

/** `git-upload-pack '/app.git'` (and receive-pack), as OpenSSH sends them for git. */
const GIT_COMMAND = /^(git-upload-pack|git-receive-pack) '\/?([\w.-]+\.git)'$/;

export class SshGitServer {
  /** Every command a client ran, as sent. */
  readonly commands: string[] = [];
  private server: Server | undefined;
  private port = 0;

  /** Serves the bare repositories in `root` (by file name) from keys kept in `keysDir`. */
  constructor(
    private readonly root: string,
    private readonly keysDir: string,
  ) {}

  /** `ssh://git@127.0.0.1:<port>/<name>`. */
  urlOf(name: string): string {
    return `ssh://git@127.0.0.1:${this.port}/${name}`;
  }

  /** The GIT_SSH_COMMAND that knows this host and holds the accepted key, and nothing else. */
  get sshCommand(): string {
    const option = (o: string) => `-o ${o}`;
    return [
      'ssh',
      `-i ${path.join(this.keysDir, 'client')}`,
      option(`UserKnownHostsFile=${path.join(this.keysDir, 'known_hosts')}`),
      option('StrictHostKeyChecking=yes'),
      option('IdentitiesOnly=yes'),
      option('BatchMode=yes'),
      option('GlobalKnownHostsFile=/dev/null'),
    ].join(' ');
  }

  async start(): Promise<void> {
    for (const name of ['host', 'client']) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `ado-test-${name}`, '-f', path.join(this.keysDir, name)]);
    }
    const accepted = utils.parseKey(await readFile(path.join(this.keysDir, 'client.pub')));
    if (accepted instanceof Error) throw accepted;
    this.server = new Server({ hostKeys: [await readFile(path.join(this.keysDir, 'host'))] }, (client) => this.serve(client, accepted));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    const hostKey = (await readFile(path.join(this.keysDir, 'host.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(path.join(this.keysDir, 'known_hosts'), `[127.0.0.1]:${this.port} ${hostKey}\n`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(client: Connection, accepted: ReturnType<typeof utils.parseKey> & object): void {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || !('getPublicSSH' in accepted)) return ctx.reject(['publickey']);
      const same = ctx.key.algo === accepted.type && ctx.key.data.equals(accepted.getPublicSSH());
      // Without a signature the client only asks whether the key would do.
      if (same && (!ctx.signature || accepted.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true)) return ctx.accept();
      return ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().on('exec', (acceptExec, reject, info) => {
          const match = GIT_COMMAND.exec(info.command);
          if (!match) return reject();
          this.commands.push(info.command);
          const stream = acceptExec();
          const child = spawn('git', [match[1]!.slice('git-'.length), path.join(this.root, match[2]!)]);
          stream.pipe(child.stdin);
          // The exit status goes before the end of the channel: piping must not end it first.
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          child.on('close', (code) => {
            stream.exit(code ?? 1);
            stream.end();
          });
        });
      });
    });
  }
}
