import { defineSearchAttributeKey } from '@temporalio/common';
import type { TaskPhase } from './task';

/** The task's current phase, kept current by the workflow: `ado list` and the Web UI filter on it. */
export const AdoPhase = defineSearchAttributeKey('AdoPhase', 'KEYWORD');
/** The repository the task changes. */
export const AdoRepository = defineSearchAttributeKey('AdoRepository', 'KEYWORD');
/** Version label of a migrated run (`WorkflowVersion` in the design). */
export const WorkflowVersion = defineSearchAttributeKey('WorkflowVersion', 'KEYWORD');

/** Every search attribute ADO uses; the dev server registers them at start. */
export const ADO_SEARCH_ATTRIBUTES = [AdoPhase, AdoRepository, WorkflowVersion];

/** A string literal of Temporal's visibility (list filter) query language. */
export function visibilityString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** What a task list is narrowed to; each field set adds one condition. */
export interface TaskFilter {
  taskQueue?: string;
  phase?: TaskPhase;
  repository?: string;
}

/**
 * The visibility query of the runs of `workflowType` (the task workflow's name, passed in so this
 * module stays free of workflow code) matching `filter`.
 */
export function taskWorkflowFilter(workflowType: string, filter: TaskFilter = {}): string {
  const terms = [`WorkflowType = ${visibilityString(workflowType)}`];
  if (filter.taskQueue !== undefined) terms.push(`TaskQueue = ${visibilityString(filter.taskQueue)}`);
  if (filter.phase !== undefined) terms.push(`${AdoPhase.name} = ${visibilityString(filter.phase)}`);
  if (filter.repository !== undefined) terms.push(`${AdoRepository.name} = ${visibilityString(filter.repository)}`);
  return terms.join(' AND ');
}
