/**
 * Accounting of what a run writes to its workspace, so that a run cannot fill the host's disk:
 * the workspace (or, on an overlay view, its upper folder) is a folder on the host file system,
 * whose writes may have to outlive the run, so no size-capped mount can hold it, and quotas need
 * root and a file system that has them. Instead the run's growth is measured while it runs, and the run is stopped
 * once it passes its disk limit; a single file cannot pass it at all (RLIMIT_FSIZE, limits.ts).
 *
 * Measuring is `du` over the workspace (allocated bytes), against the size it had when the run
 * started. `du` costs time in proportion to the number of files, so it runs every few seconds
 * only, and at once whenever the file system's own usage (one `statfs`, every half second) has
 * grown by an eighth of the limit since the last measurement: a run writing fast is stopped
 * within about a second of passing its limit. When `du` cannot read part of the workspace (a
 * folder the run made unreadable, as the same user), the file system's growth since the start
 * counts instead: an upper bound, which may stop a run early while others write too.
 */
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';

const POLL_MS = 500;
const MIN_DU_INTERVAL_MS = 5000;
/** `du` may take at most this share of the time between two of its runs. */
const DU_DUTY = 20;

export interface DiskWatch {
  stop(): void;
}

interface Usage {
  bytes: number;
  /** False when some folder could not be read. */
  complete: boolean;
}

/** Allocated bytes under `dir` on its file system (`du -s -x -B1`). */
function du(dir: string): Promise<Usage> {
  return new Promise((resolve, reject) => {
    execFile('du', ['-s', '-x', '-B1', '--', dir], { encoding: 'utf8' }, (error, stdout) => {
      const bytes = Number(/^(\d+)/.exec(stdout)?.[1]);
      if (Number.isFinite(bytes)) resolve({ bytes, complete: error === null });
      else reject(error ?? new Error(`du printed no total for ${dir}`));
    });
  });
}

async function fileSystemUsed(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return (fs.blocks - fs.bfree) * fs.bsize;
}

/**
 * Measures `dir` now, then watches it until `stop`; calls `onExceeded` (once) with the bytes added
 * when they pass `limitBytes`.
 */
export async function watchDisk(dir: string, limitBytes: number, onExceeded: (addedBytes: number) => void): Promise<DiskWatch> {
  const [baseline, fsBaseline] = await Promise.all([du(dir), fileSystemUsed(dir)]);
  let fsAtLastDu = fsBaseline;
  let lastDu = performance.now();
  let duInterval = MIN_DU_INTERVAL_MS;
  let measuring = false;
  let stopped = false;

  const measure = async (): Promise<void> => {
    measuring = true;
    const started = performance.now();
    try {
      const [usage, fsNow] = await Promise.all([du(dir), fileSystemUsed(dir)]);
      const elapsed = performance.now() - started;
      duInterval = Math.max(MIN_DU_INTERVAL_MS, elapsed * DU_DUTY);
      lastDu = performance.now();
      fsAtLastDu = fsNow;
      const added = usage.complete ? usage.bytes - baseline.bytes : Math.max(usage.bytes - baseline.bytes, fsNow - fsBaseline);
      if (added > limitBytes && !stopped) {
        stopped = true;
        onExceeded(added);
      }
    } catch {
      // The folder went away (the run is ending) or du failed once: the next round tries again.
    } finally {
      measuring = false;
    }
  };

  const timer = setInterval(() => {
    if (measuring || stopped) return;
    void fileSystemUsed(dir)
      .then((used) => (used - fsAtLastDu >= limitBytes / 8 || performance.now() - lastDu >= duInterval ? measure() : undefined))
      .catch(() => undefined);
  }, POLL_MS);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
