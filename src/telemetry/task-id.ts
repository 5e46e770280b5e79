/** The task id an ADO workflow or activity input carries (every one has `taskId`). Pure: bundled with the workflow code. */
export function taskIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('taskId' in input)) return undefined;
  return typeof input.taskId === 'string' ? input.taskId : undefined;
}
