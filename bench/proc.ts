/** What Linux says about a process: its resident memory and the CPU time it has used. */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every mainstream Linux architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size of process `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`No VmRSS in /proc/${pid}/status: is the process still running?`);
  return Number(match[1]) * 1024;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): state is [0], ppid [1]. */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU time process `pid` has used so far, in milliseconds (10 ms resolution). */
export function cpuMs(pid: number): number {
  const fields = statFields(pid); // utime [11], stime [12]
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The pid of a child of this process whose command line contains `pattern` (a server the SDK started). */
export function childPid(pattern: string): number {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (Number(statFields(entry)[1]) === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(pattern)) return Number(entry);
    } catch {
      // The process ended while we looked: not the one.
    }
  }
  throw new Error(`No child process of ${process.pid} runs "${pattern}".`);
}
