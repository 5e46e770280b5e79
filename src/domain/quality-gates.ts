/** How one quality gate ran: the shape the gate runner reports and the review activity returns. */

export interface GateResult {
  gate: string;
  command: string;
  passed: boolean;
  exitCode: number | null;
  durationMs: number;
  /** Why the run stopped when it was not a normal exit (timeout, memory, output cap...). */
  stopReason?: string;
}
