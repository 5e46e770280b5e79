// The task phases, in order, and those a task ends in: the console's one copy of TASK_PHASES and
// TERMINAL_PHASES from src/domain/task.ts (src/console/phases.test.ts keeps the two equal).
export const TASK_PHASES = ['planning', 'decomposing', 'coding', 'testing', 'review', 'completed', 'failed', 'cancelled'];
export const TERMINAL_PHASES = ['completed', 'failed', 'cancelled'];
