/**
 * Finds runsc (gVisor) as the gvisor sandbox backend does, building the pinned version into ADO's
 * cache from the Go module proxy when nothing provides it, and says where it is:
 * `npx tsx scripts/runsc/install.ts`. `scripts/setup --sandbox gvisor` and `.ci/run` (in the
 * background, before the tests that need it) run it.
 */
import { locateRunsc, RUNSC_BUILD } from '../../src/sandbox/gvisor/runsc-binary';

async function main(): Promise<void> {
  const started = performance.now();
  const runsc = await locateRunsc({ log: (line) => console.log(line) });
  console.log(`runsc ready (${runsc}; pinned build ${RUNSC_BUILD.version}) in ${Math.round(performance.now() - started)} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
