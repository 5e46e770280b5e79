/** Throwaway workspaces and host-side probes for the sandbox and gate tests; each cleans up after its test. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { hostListener as listenOnHost, type HostListener } from '../../src/sandbox/escape/host-fixtures';

export { gvisorReadyHere as gvisorAvailable } from '../../src/sandbox/gvisor/runsc-binary';
export { ALLOCATE_FOREVER, connectCommand, hostAddress, hostProcessesWith, proxyConnectCommand, type HostListener } from '../../src/sandbox/escape/host-fixtures';

/** A fresh folder under the system temp folder holding `files` (path → content), removed after the test. */
export async function tempWorkspace(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-sandbox-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** A listener on the host (see `hostListener` in src/sandbox/escape/host-fixtures.ts), closed after the test. */
export async function hostListener(host = '127.0.0.1'): Promise<HostListener> {
  const listener = await listenOnHost(host);
  onTestFinished(() => listener.close());
  return listener;
}

