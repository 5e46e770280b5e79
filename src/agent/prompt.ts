/** The opening messages of a coding session: how to work, then the task. */
import type { SessionMessage } from './conversation';

export interface SessionBrief {
  prompt: string;
  plan?: string;
  /** The subtasks' titles and descriptions. */
  subtasks?: string[];
  /** Failures from the previous iteration's checks, or a reviewer's comment. */
  feedback?: string[];
  /** A repository map to start from (optional: the model can ask for one). */
  repoMap?: string;
}

const SYSTEM = [
  'You are a software engineer working in a git repository checked out at the working directory.',
  'Work only through the tools: explore (repo_map, search, find_files, view), edit (str_replace, create, insert, apply_patch),',
  'check (run one command, run_gates for the full checks), and call finish with a summary when the task is done.',
  'Look before you edit: view a file (or the lines around a search hit) before changing it, and copy old_str exactly as shown, without line numbers.',
  'Keep changes small and in the style of the code around them. Add or update tests when behaviour changes.',
  'Commands run in a sandbox without network. finish runs the quality gates; if they fail you get their failures and carry on.',
].join('\n');

export function openingMessages(brief: SessionBrief): SessionMessage[] {
  const parts = [`Task: ${brief.prompt}`];
  if (brief.plan) parts.push(`Plan:\n${brief.plan}`);
  if (brief.subtasks?.length) parts.push(`Subtasks:\n${brief.subtasks.map((s) => `- ${s}`).join('\n')}`);
  if (brief.feedback?.length) parts.push(`To address first:\n${brief.feedback.map((f) => `- ${f}`).join('\n')}`);
  if (brief.repoMap) parts.push(brief.repoMap);
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}
