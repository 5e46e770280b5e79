/**
 * A model for whole tasks over real HTTP: an OpenAI-compatible server on 127.0.0.1 whose answers
 * follow from the request alone (so a retried activity, or one on a restarted worker, gets the
 * same answer). The task prompt names the file to write as `[[write <path>]]`; the plan, the
 * subtasks and the code answer follow from it. Every answered request is counted by task and
 * purpose, so a harness can tell how many times the model was asked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ModelDouble {
  /** Base URL for ADO_LLM_BASE_URL. */
  url: string;
  /** Answers given, by `<file>|<purpose>`. */
  answered: Map<string, number>;
  /** Every answer given, in order, with its time. */
  answers: Array<{ file: string; purpose: Purpose; at: number }>;
  close(): Promise<void>;
}

/** The line a task prompt carries so that the double knows what to write. */
export function writeDirective(file: string): string {
  return `[[write ${file}]]`;
}

export type Purpose = 'plan' | 'decompose' | 'code';

function purposeOf(system: string): Purpose | undefined {
  if (system.includes('planning a change')) return 'plan';
  if (system.includes('Split the approved plan')) return 'decompose';
  if (system.includes('changing an existing repository')) return 'code';
  return undefined;
}

/** The answer to one chat request, or undefined for a request it does not know. */
export function answerFor(messages: Array<{ role: string; content: string }>): { purpose: Purpose; file: string; content: string } | undefined {
  const purpose = purposeOf(messages.find((m) => m.role === 'system')?.content ?? '');
  // A repair round's last message is the complaint; the task is in an earlier one.
  const directive = /\[\[write ([A-Za-z0-9._/-]+)\]\]/;
  const file = directive.exec(messages.findLast((m) => m.role === 'user' && directive.test(m.content))?.content ?? '')?.[1];
  if (!purpose || !file) return undefined;
  switch (purpose) {
    case 'plan':
      return { purpose, file, content: `1. Create ${file} holding its own name.\n2. The test gate checks that it exists.` };
    case 'decompose':
      return { purpose, file, content: JSON.stringify({ subtasks: [{ id: '1', title: `Create ${file}`, description: `Write ${file}.`, files: [file] }] }) };
    case 'code':
      return { purpose, file, content: JSON.stringify({ summary: `Create ${file}.`, edits: [{ type: 'write', path: file, content: `${file}\n` }] }) };
  }
}

export async function startModelDouble(host = '127.0.0.1'): Promise<ModelDouble> {
  const answered = new Map<string, number>();
  const answers: ModelDouble['answers'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      let body: { messages?: Array<{ role: string; content: string }> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        send(400, { error: { message: 'request body is not JSON' } });
        return;
      }
      const answer = answerFor(body.messages ?? []);
      if (!answer) {
        send(400, { error: { message: 'the model double does not know this request (no [[write <path>]] in the task?)' } });
        return;
      }
      const key = `${answer.file}|${answer.purpose}`;
      answered.set(key, (answered.get(key) ?? 0) + 1);
      answers.push({ file: answer.file, purpose: answer.purpose, at: Date.now() });
      send(200, {
        id: `chatcmpl-${answered.size}`,
        object: 'chat.completion',
        model: 'model-double',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer.content } }],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}`,
    answered,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
