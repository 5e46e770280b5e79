/**
 * The coding agent's tools: their names, argument schemas (zod, for validating what the model
 * sends) and the JSON schemas the model is shown (OpenAI `tools`), in one place, so the two can
 * never disagree. docs/agent-tools.md describes each tool for people. Pure: the workflow bundle
 * imports the names and the step shapes.
 */
import { z } from 'zod';

const relPath = z.string().min(1).describe('path relative to the repository root');

/** Argument schemas by tool name; each `.describe()` is what the model reads. */
export const agentToolArgs = {
  view: z.strictObject({
    path: z.string().min(1).describe('file or folder, relative to the repository root ("." for the root)'),
    view_range: z
      .tuple([z.number().int().min(1), z.number().int().min(-1)])
      .optional()
      .describe('[first, last] line to show, 1-based and inclusive; last -1 means to the end of the file'),
  }),
  search: z.strictObject({
    pattern: z.string().min(1).describe('regular expression (Rust/PCRE-like syntax), matched per line'),
    path: z.string().optional().describe('folder or file to search in; default the whole repository'),
    glob: z.string().optional().describe('only files whose path matches this glob, e.g. "*.ts" or "src/**/*.py"'),
    show_lines: z.boolean().optional().describe('show the matching lines with line numbers instead of the files with their match counts'),
    case_insensitive: z.boolean().optional(),
  }),
  find_files: z.strictObject({
    glob: z.string().min(1).describe('glob over paths relative to the root, e.g. "**/*.test.ts" or "src/*/index.ts"'),
  }),
  repo_map: z.strictObject({
    focus: z.array(z.string()).optional().describe('files or identifiers to rank higher (what the task is about)'),
    max_tokens: z.number().int().min(256).max(16_384).optional().describe('token budget of the map; default 2048'),
  }),
  str_replace: z.strictObject({
    path: relPath,
    old_str: z.string().min(1).describe('text that occurs exactly once in the file, with enough surrounding lines to be unique'),
    new_str: z.string().describe('the replacement (empty to delete old_str)'),
  }),
  create: z.strictObject({
    path: relPath,
    file_text: z.string().describe('the whole content of the new file'),
  }),
  insert: z.strictObject({
    path: relPath,
    insert_line: z.number().int().min(0).describe('insert after this line (0 inserts at the top)'),
    new_str: z.string().describe('the text to insert'),
  }),
  apply_patch: z.strictObject({
    patch: z.string().min(1).describe('a patch in the "*** Begin Patch" … "*** End Patch" format (Add File / Update File / Delete File / Move to, hunks with @@, " ", "-", "+" lines)'),
  }),
  run: z.strictObject({
    command: z.string().min(1).describe('a shell command line, run with /bin/sh -c at the repository root in the sandbox (no network)'),
    timeout_sec: z.number().int().min(1).max(1800).optional().describe('wall-time limit; default 120'),
  }),
  run_gates: z.strictObject({}),
  finish: z.strictObject({
    summary: z.string().min(1).describe('what was changed and why, for the pull request'),
  }),
} as const;

export type AgentToolName = keyof typeof agentToolArgs;
export type AgentToolArgs<N extends AgentToolName> = z.infer<(typeof agentToolArgs)[N]>;

/** Every tool, in the order the model is shown them. */
export const AGENT_TOOL_NAMES = Object.keys(agentToolArgs) as AgentToolName[];

/** The tools that only read the tree: they write nothing and run no command in it. */
export const READING_TOOLS: ReadonlySet<AgentToolName> = new Set(['view', 'search', 'find_files', 'repo_map']);

/** The tools whose quality gates judge the tree. */
export const JUDGING_TOOLS: ReadonlySet<AgentToolName> = new Set(['run_gates', 'finish']);

/** The tools that change files: the only ones after which the session commits. */
export const EDITING_TOOLS: ReadonlySet<AgentToolName> = new Set(['str_replace', 'create', 'insert', 'apply_patch']);

const DESCRIPTIONS: Record<AgentToolName, string> = {
  view: 'Show a file with line numbers (or a line range of it), or list a folder. Long files are cut; the note says how to see the rest.',
  search: 'Search file contents with a regular expression (ripgrep). Lists matching files with match counts first; set show_lines to see the lines.',
  find_files: 'List files whose path matches a glob.',
  repo_map: "A ranked outline of the repository's definitions (classes, functions, types) within a token budget; the most referenced first.",
  str_replace: 'Replace text that occurs exactly once in a file. On failure the answer says whether it was not found (with the closest lines) or found several times.',
  create: 'Create a file (or overwrite an existing one) with the given content.',
  insert: 'Insert text after a given line of a file.',
  apply_patch: 'Apply a multi-file patch in the "*** Begin Patch" format.',
  run: 'Run one shell command in the sandbox at the repository root (no network); output is cut to its head and tail.',
  run_gates: "Run the repository's quality gates (typecheck, lint, test, build) as the final check will.",
  finish: 'Say the work is done. The gates run first; if they fail, their failures come back instead and the session goes on.',
};

/** One tool as the OpenAI Chat Completions API takes it. */
export interface AgentToolSpec {
  type: 'function';
  function: { name: AgentToolName; description: string; parameters: Record<string, unknown> };
}

/** The tools in the OpenAI `tools` format, JSON schemas generated from the zod schemas. */
export function agentToolSpecs(): AgentToolSpec[] {
  return AGENT_TOOL_NAMES.map((name) => {
    const { $schema: _dialect, ...parameters } = z.toJSONSchema(agentToolArgs[name]) as Record<string, unknown>;
    return { type: 'function', function: { name, description: DESCRIPTIONS[name], parameters } };
  });
}

/** A tool call as the model sent it: the name and the arguments as JSON text, unchecked. */
export interface RawToolCall {
  /** The model's id for the call (OpenAI `tool_calls[].id`); tool results answer it. */
  id: string;
  name: string;
  arguments: string;
}

/** A tool call whose name and arguments passed their schema. */
export type AgentToolCall = { [N in AgentToolName]: { id: string; name: N; args: AgentToolArgs<N> } }[AgentToolName];

/** A checked call, or the observation that tells the model what was wrong with it. */
export type ParsedToolCall = { ok: true; call: AgentToolCall } | { ok: false; id: string; error: string };

/** Checks a raw call against its tool's schema; the error is written for the model to correct. */
export function parseToolCall(raw: RawToolCall): ParsedToolCall {
  if (raw.name === '') {
    return { ok: false, id: raw.id, error: 'A tool call must be one JSON object with "name" (a tool) and "arguments" (an object); this one could not be read.' };
  }
  if (!Object.hasOwn(agentToolArgs, raw.name)) {
    return { ok: false, id: raw.id, error: `Unknown tool ${JSON.stringify(raw.name)}. The tools are: ${AGENT_TOOL_NAMES.join(', ')}.` };
  }
  const name = raw.name as AgentToolName;
  let json: unknown;
  try {
    json = raw.arguments.trim() === '' ? {} : JSON.parse(raw.arguments);
  } catch (err) {
    return { ok: false, id: raw.id, error: `The arguments of ${name} are not valid JSON (${(err as Error).message}). Send one JSON object.` };
  }
  const parsed = agentToolArgs[name].safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
    return { ok: false, id: raw.id, error: `The arguments of ${name} do not fit its schema: ${issues}.` };
  }
  return { ok: true, call: { id: raw.id, name, args: parsed.data } as AgentToolCall };
}

/** How one tool call ended. */
export type AgentStepOutcome = 'ok' | 'error' | 'malformed';

/** One tool call of a session, as `ado status` and the event stream show it. */
export interface AgentStep {
  /** 1-based within the session. */
  index: number;
  tool: string;
  /** The call's main argument, shortened for one line (a path, a pattern, a command). */
  argument: string;
  outcome: AgentStepOutcome;
  durationMs: number;
  /** Fingerprint of the call (name and arguments) and of its observation: stuck detection compares these. */
  actionKey: string;
  observationKey: string;
}

/** Why a session is stuck (the rules follow OpenHands' stuck detector). */
export interface AgentStuck {
  rule: 'same-action-same-observation' | 'same-failing-action' | 'alternation';
  /** For humans and the model: which action, how often. */
  detail: string;
}

/** How a session ended. */
export type AgentOutcome =
  | { kind: 'finished'; summary: string; sha: string }
  | { kind: 'stuck'; stuck: AgentStuck; sha: string }
  | { kind: 'step-limit'; sha: string; steps: number }
  /** Paused before a model turn: the task's budget is reached (the task asks at its checkpoint, then resumes the session). */
  | { kind: 'budget'; reached: string; sha: string };

const ARGUMENT_FIELD: Record<AgentToolName, string | undefined> = {
  view: 'path',
  search: 'pattern',
  find_files: 'glob',
  repo_map: undefined,
  str_replace: 'path',
  create: 'path',
  insert: 'path',
  apply_patch: undefined,
  run: 'command',
  run_gates: undefined,
  finish: undefined,
};

/** The call's main argument on one line of at most `max` characters. */
export function shortArgument(call: AgentToolCall, max = 60): string {
  const field = ARGUMENT_FIELD[call.name];
  const raw: unknown = field === undefined ? '' : (call.args as Record<string, unknown>)[field];
  const value = typeof raw === 'string' ? raw : '';
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
