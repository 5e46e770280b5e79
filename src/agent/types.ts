/** What every agent tool gets and gives back. */
import type { QualityGatesResult } from '../domain/quality-gates';
import type { RepoConfig } from '../gates/config';
import type { Sandbox } from '../sandbox/types';
import type { RepoMapCache } from './repo-map';

/** Where and how a tool call runs. */
export interface ToolContext {
  /** The task's working copy on this worker; every path of a call is relative to it. */
  workspaceDir: string;
  /** Where `run` and the gates execute the repository's code. */
  sandbox: Sandbox;
  /** The config of the task's base commit: the gates `run_gates` and `finish` run. */
  repoConfig: RepoConfig;
  /** Aborting stops a running command or gate. */
  signal?: AbortSignal;
  /** Called now and then during long calls (activities heartbeat here). */
  onProgress?: () => void;
  /** Told what runs now during the gates (activities send it with their heartbeats). */
  report?: (doing: string) => void;
  /** Tags of files already parsed, by content hash; shared between calls of one process. */
  repoMapCache?: RepoMapCache;
}

/** What a tool call produced: the text the model sees next, and what the session needs to know. */
export interface ToolObservation {
  /** False when the call failed (not found, no match, command failed…); the text says why. */
  ok: boolean;
  text: string;
  /** Paths the call changed, for the commit after it. */
  changed?: string[];
  /** `run_gates` and `finish`: the gates' outcome. */
  gates?: QualityGatesResult;
  /** `finish` with passing gates: the model's summary. */
  finished?: { summary: string };
}

/** A failed call's observation: the reason, for the model to act on. */
export function refused(text: string): ToolObservation {
  return { ok: false, text };
}
