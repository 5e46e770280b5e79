/**
 * Records the histories of `SCENARIOS` into test/replay/histories/*.json.
 * Run after an intended workflow change that is guarded by `patched()`: `npm run histories:record`.
 * First move the old files into a subfolder named for the change (they stay replayed): running
 * tasks recorded them. Names given as arguments record those scenarios only (a new scenario).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createTestActivities } from '../fakes/test-activities';
import { installTestRuntime, startLocalEnv, withWorkers } from '../helpers/temporal';
import { SCENARIOS } from './scenarios';

async function main(): Promise<void> {
  installTestRuntime();
  const env = await startLocalEnv();
  try {
    const only = process.argv.slice(2);
    for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
      await withWorkers(env, createTestActivities(scenario.script).activities, async ({ queues }) => {
        const handle = await scenario.run(env.client, queues);
        const file = path.join(__dirname, 'histories', `${scenario.name}.json`);
        writeFileSync(file, historyToJSON(await handle.fetchHistory()));
        console.log(`recorded ${path.relative(process.cwd(), file)}`);
        for (const [suffix, child] of Object.entries((await scenario.children?.(env.client, handle)) ?? {})) {
          const childFile = path.join(__dirname, 'histories', `${scenario.name}.${suffix}.json`);
          writeFileSync(childFile, historyToJSON(await child.fetchHistory()));
          console.log(`recorded ${path.relative(process.cwd(), childFile)}`);
        }
      });
    }
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
