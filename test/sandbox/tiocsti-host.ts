/**
 * Helper program for the TIOCSTI escape test: started under a pseudo-terminal that is its
 * controlling terminal, it has the sandbox try to push characters into that terminal, and prints
 * what happened as one JSON line.
 * The backend is ADO_SANDBOX's.
 *   usage: tsx test/sandbox/tiocsti-host.ts <workdir>
 */
import { createSandbox, sandboxConfigFromEnv } from '../../src/sandbox';

/** Tries TIOCSTI on fds 0-2 and on /dev/tty; prints "<target>:INJECTED" or "<target>:<errno>". */
const TIOCSTI_PROBE = `
import fcntl, os, termios
results = []
def inject(name, fd):
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b'x')
        results.append(name + ':INJECTED')
    except OSError as e:
        results.append(name + ':' + str(e.errno))
for fd in (0, 1, 2):
    inject('fd' + str(fd), fd)
try:
    inject('tty', os.open('/dev/tty', os.O_RDWR))
except OSError as e:
    results.append('tty-open:' + str(e.errno))
print(' '.join(results))
`;

async function main(): Promise<void> {
  const workdir = process.argv[2];
  if (workdir === undefined) throw new Error('usage: tiocsti-host.ts <workdir>');
  const result = await createSandbox(sandboxConfigFromEnv()).run({ command: `python3 -c "${TIOCSTI_PROBE}"`, workdir });
  console.log(JSON.stringify({ hostHasTerminal: process.stdin.isTTY === true, stopReason: result.stopReason, output: result.output.trim() }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
