import { describe, expect, it } from 'vitest';
import type { TaskError } from '../domain/task';
import { codeAnswerSchema, codePrompt, decomposePrompt, planPrompt, subtasksAnswerSchema, type PromptBudget } from './prompts';

const gateFailure: TaskError = {
  iteration: 1,
  tool: 'test',
  exitCode: 1,
  message: "FAIL src/signup.test.ts > rejects bad e-mail\nAssertionError: expected 'ok' to be 'invalid'",
  fingerprint: 'fp',
};

function codeInput(overrides: Partial<Parameters<typeof codePrompt>[0]> = {}): Parameters<typeof codePrompt>[0] {
  return {
    prompt: 'Add e-mail validation to the signup form',
    plan: '1. Add validateEmail to src/signup.ts',
    subtasks: [{ id: '1', title: 'Validate', description: 'Reject addresses without @', files: ['src/signup.ts'] }],
    files: [{ path: 'src/signup.ts', content: 'export function signup() {}\n' }],
    previousErrors: [],
    iteration: 1,
    ...overrides,
  };
}

const userText = (messages: { role: string; content: string }[]) => messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');

describe('prompts', () => {
  it('code prompt carries the task, plan, subtasks, files and the previous iteration failures (tool, exit code, message)', () => {
    const messages = codePrompt(codeInput({ iteration: 2, previousErrors: [gateFailure] }));
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    const user = userText(messages);
    expect(user).toContain('Add e-mail validation to the signup form');
    expect(user).toContain('1. Add validateEmail to src/signup.ts');
    expect(user).toContain('Reject addresses without @ (files: src/signup.ts)');
    expect(user).toContain('export function signup() {}');
    expect(user).toContain('### test (exit code 1)');
    expect(user).toContain(gateFailure.message);
    expect(messages[0]?.content).toContain('"type": "replace"');
  });

  it('first code iteration has no failures section', () => {
    expect(userText(codePrompt(codeInput()))).not.toContain('Failures of iteration');
  });

  it('keeps files within the budget: long files cut, files past the total listed by path', () => {
    const budget: PromptBudget = { maxFileChars: 50, maxTotalChars: 150, maxErrorChars: 30, maxListedPaths: 1 };
    const files = [
      { path: 'a.ts', content: 'a'.repeat(80) },
      { path: 'b.ts', content: 'b'.repeat(40) },
      { path: 'c.ts', content: 'c'.repeat(40) },
      { path: 'd.ts' },
    ];
    const user = userText(codePrompt(codeInput({ files, iteration: 2, previousErrors: [{ ...gateFailure, message: 'x'.repeat(100) }] }), budget));
    expect(user).toContain(`${'a'.repeat(50)}\n… (cut: 30 more characters)`);
    expect(user).not.toContain('a'.repeat(51));
    expect(user).toContain('b'.repeat(40));
    expect(user).not.toContain('c'.repeat(40));
    expect(user).toContain('- c.ts (content left out: prompt budget)');
    expect(user).toContain('- … and 1 more');
    expect(user).toContain('… (cut: 70 more characters)');
  });

  it('fences file contents so that backticks inside cannot end the block', () => {
    const user = userText(codePrompt(codeInput({ files: [{ path: 'README.md', content: '```sh\nnpm test\n```' }] })));
    expect(user).toContain('````\n```sh\nnpm test\n```\n````');
  });

  it('plan prompt lists the repository and its files; decompose prompt carries the plan and the answer format', () => {
    const plan = userText(planPrompt({ prompt: 'Add validation', repository: '/repos/app', files: [{ path: 'package.json', content: '{}' }, { path: 'src/index.ts' }] }));
    expect(plan).toContain('Add validation');
    expect(plan).toContain('/repos/app');
    expect(plan).toContain('### package.json');
    expect(plan).toContain('- src/index.ts');

    const decompose = decomposePrompt({ prompt: 'Add validation', plan: 'Step one. Step two.' });
    expect(userText(decompose)).toContain('Step one. Step two.');
    expect(decompose[0]?.content).toContain('"subtasks"');
  });
});

describe('answer schemas', () => {
  it('accepts the three edit kinds and rejects paths outside the repository', () => {
    const answer = {
      summary: 'Add the validator',
      edits: [
        { type: 'replace', path: 'src/a.ts', search: 'old', replace: 'new' },
        { type: 'write', path: 'src/b.ts', content: 'x' },
        { type: 'delete', path: 'src/c.ts' },
      ],
    };
    expect(codeAnswerSchema.parse(answer)).toEqual(answer);
    for (const path of ['/etc/passwd', '../outside.ts', 'src/../../x', '.git/config', 'C:\\x']) {
      expect(codeAnswerSchema.safeParse({ summary: 's', edits: [{ type: 'delete', path }] }).success, path).toBe(false);
    }
  });

  it('takes numbered subtask ids as strings and rejects duplicates', () => {
    expect(subtasksAnswerSchema.parse({ subtasks: [{ id: 1, title: 'A', description: 'a' }] }).subtasks[0]?.id).toBe('1');
    const dup = subtasksAnswerSchema.safeParse({ subtasks: [{ id: '1', title: 'A', description: '' }, { id: 1, title: 'B', description: '' }] });
    expect(dup.success).toBe(false);
  });
});
