/**
 * Helper program for the gVisor crash test: a "worker" that opens a session (a detached gVisor
 * sandbox) under the given state folder, starts a long sleep in it, prints READY and waits to be
 * killed. READY comes with its pid (tsx runs the program in a child process).
 *   usage: tsx test/sandbox/gvisor-session-host.ts <state base> <workdir> <marker>
 */
import { createGvisorSandbox } from '../../src/sandbox/gvisor/gvisor';

async function main(): Promise<void> {
  const [stateBase, workdir, marker] = process.argv.slice(2);
  if (stateBase === undefined || workdir === undefined || marker === undefined) throw new Error('usage: gvisor-session-host.ts <state base> <workdir> <marker>');
  const session = await createGvisorSandbox({ stateBase }).openSession?.(workdir);
  const started = await session?.run({ command: `echo $$ > pid; sleep ${marker} > /dev/null 2>&1 & echo started` });
  console.log(started?.output.trim() === 'started' ? `READY ${process.pid}` : `FAILED ${JSON.stringify(started)}`);
  await new Promise(() => undefined);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
