/** What the quality gates report: the gate runner's result, returned by the review activity as it is. */
import type { ToolFailure } from './task';

export interface GateResult {
  gate: string;
  command: string;
  passed: boolean;
  exitCode: number | null;
  durationMs: number;
  /** Why the run stopped when it was not a normal exit (timeout, memory, output cap...). */
  stopReason?: string;
}

export interface QualityGatesResult {
  passed: boolean;
  gates: GateResult[];
  /** One per gate that failed, for the next code-generation round. */
  failures: ToolFailure[];
}
