import { describe, expect, it } from 'vitest';
import { taskWorkflowFilter, visibilityString } from './search-attributes';

describe('visibility queries', () => {
  it('quotes a string literal, escaping quotes and backslashes', () => {
    expect(visibilityString('plain')).toBe("'plain'");
    expect(visibilityString("it's C:\\repo")).toBe("'it\\'s C:\\\\repo'");
  });

  it('filters the task workflow by each condition given, every value quoted', () => {
    expect(taskWorkflowFilter('taskExecutionWorkflow')).toBe("WorkflowType = 'taskExecutionWorkflow'");
    expect(taskWorkflowFilter('taskExecutionWorkflow', { taskQueue: 'ado-tasks', phase: 'coding', repository: "/src/o'brien" })).toBe(
      "WorkflowType = 'taskExecutionWorkflow' AND TaskQueue = 'ado-tasks' AND AdoPhase = 'coding' AND AdoRepository = '/src/o\\'brien'",
    );
  });
});
