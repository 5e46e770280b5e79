import { defineSearchAttributeKey } from '@temporalio/common';

/** The task's current phase, kept current by the workflow: `ado list` and the Web UI filter on it. */
export const AdoPhase = defineSearchAttributeKey('AdoPhase', 'KEYWORD');
/** The repository the task changes. */
export const AdoRepository = defineSearchAttributeKey('AdoRepository', 'KEYWORD');
/** Version label of a migrated run (the spec's `WorkflowVersion`). */
export const WorkflowVersion = defineSearchAttributeKey('WorkflowVersion', 'KEYWORD');

/** Every search attribute ADO uses; the dev server registers them at start. */
export const ADO_SEARCH_ATTRIBUTES = [AdoPhase, AdoRepository, WorkflowVersion];
