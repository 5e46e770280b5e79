/** Workflow entry point for the worker's bundler: every workflow ADO registers. */
export { taskExecutionWorkflow } from './task-execution.workflow';
export { codingSessionWorkflow } from './coding-session.workflow';
