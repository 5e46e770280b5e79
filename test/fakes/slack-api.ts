/**
 * A loopback stand-in for Slack: the Web API methods ADO calls (`chat.postMessage`,
 * `chat.update`, `chat.postEphemeral`), checking the bot token and Block Kit limits as Slack does,
 * keeping the messages and recording every call; and Slack's side of a button click, the signed
 * `block_actions` request it sends to an app's interactivity URL (with what was typed into the
 * message's input blocks, as Slack sends it in `state.values`).
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  /** Form fields, with `blocks` parsed from JSON. */
  args: Record<string, unknown>;
}

export interface SlackBlock {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  elements?: Array<{ type: string; text?: string | { type: string; text: string }; action_id?: string; value?: string; style?: string }>;
  /** Input blocks: the label and the one element. */
  label?: { type: string; text: string };
  element?: { type: string; action_id?: string; max_length?: number };
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks: SlackBlock[];
}

export interface SlackUser {
  id: string;
  username: string;
}

export interface SigningOptions {
  /** Sign with this instead of the signing secret. */
  secret?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
}

export interface ClickOptions extends SigningOptions {
  /** What the user typed into the message's input elements, by action id (the others are empty). */
  typed?: Record<string, string>;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SlackApiStandIn {
  /** For `WebClient`'s `slackApiUrl`. */
  apiUrl: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Messages as they are now (after updates), in posting order. */
  messages(): SlackMessage[];
  /** The next call to `method` fails as Slack fails: HTTP 200 with `{ok: false, error}`, or for `ratelimited` HTTP 429 with Retry-After. */
  failNext(method: string, error: string): void;
  /**
   * The request Slack sends when `user` clicks button `actionId` of `message`: form body and
   * headers signed with the signing secret (or `options.secret`) at now (or `options.timestamp`).
   */
  click(message: SlackMessage, actionId: string, user: SlackUser, options?: ClickOptions): SignedRequest;
  /** Any form body, signed as Slack signs what it sends. */
  sign(body: string, options?: SigningOptions): SignedRequest;
  close(): Promise<void>;
}

/** What a rate-limited call is told to wait. */
export const RETRY_AFTER_SECONDS = 7;

/** Block Kit limits Slack enforces with `invalid_blocks`. */
function blockProblems(blocks: SlackBlock[]): string[] {
  const problems: string[] = [];
  if (blocks.length > 50) problems.push('more than 50 blocks');
  for (const [i, block] of blocks.entries()) {
    const text = block.text?.text ?? '';
    if (block.type === 'section' && (text.length < 1 || text.length > 3000)) problems.push(`blocks[${i}].text must be 1-3000 characters, is ${text.length}`);
    for (const [j, element] of (block.elements ?? []).entries()) {
      const where = `blocks[${i}].elements[${j}]`;
      const label = typeof element.text === 'string' ? element.text : (element.text?.text ?? '');
      if (block.type === 'context' && label.length > 3000) problems.push(`${where}.text is longer than 3000 characters`);
      if (element.type === 'button' && label.length > 75) problems.push(`${where}.text is longer than 75 characters`);
      if ((element.value?.length ?? 0) > 2000) problems.push(`${where}.value is longer than 2000 characters`);
    }
    if (block.type === 'context' && (block.elements?.length ?? 0) > 10) problems.push(`blocks[${i}] has more than 10 elements`);
    if (block.type === 'input') {
      const label = block.label?.text ?? '';
      if (label.length < 1 || label.length > 2000) problems.push(`blocks[${i}].label must be 1-2000 characters, is ${label.length}`);
      if (!block.element?.action_id) problems.push(`blocks[${i}].element is missing or has no action_id`);
      if ((block.element?.max_length ?? 0) > 3000) problems.push(`blocks[${i}].element.max_length is more than 3000`);
    }
  }
  return problems;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body)).on('error', reject);
  });
}

/** Starts the stand-in on a free loopback port; it accepts `Bearer <token>` only. */
export async function startSlackApi(options: { token: string; signingSecret: string }): Promise<SlackApiStandIn> {
  const calls: SlackCall[] = [];
  const messages = new Map<string, SlackMessage>();
  const failures = new Map<string, string>();
  let sequence = 0;

  function answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      return { ok: false, error: failure };
    }
    const channel = typeof args.channel === 'string' ? args.channel : '';
    const blocks = (args.blocks ?? []) as SlackBlock[];
    const problems = blockProblems(blocks);
    if (problems.length) return { ok: false, error: 'invalid_blocks', errors: problems };
    switch (method) {
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!args.text && !blocks.length) return { ok: false, error: 'no_text' };
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;
        const message = { channel, ts, text: args.text as string | undefined, blocks };
        messages.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, message };
      }
      case 'chat.update': {
        const message = messages.get(`${channel}/${String(args.ts)}`);
        if (!message) return { ok: false, error: 'message_not_found' };
        Object.assign(message, { text: args.text as string | undefined, blocks });
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral':
        if (!channel || !args.user) return { ok: false, error: 'user_not_in_channel' };
        return { ok: true, message_ts: `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}` };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  const server = http.createServer((request, response) => {
    void readBody(request).then((raw) => {
      const method = (request.url ?? '').replace(/^\/api\//, '');
      const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
      if (typeof args.blocks === 'string') args.blocks = JSON.parse(args.blocks);
      const authorized = request.headers.authorization === `Bearer ${options.token}`;
      if (authorized) calls.push({ method, args });
      if (authorized && failures.get(method) === 'ratelimited') {
        failures.delete(method);
        response.writeHead(429, { 'retry-after': String(RETRY_AFTER_SECONDS) }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(authorized ? answer(method, args) : { ok: false, error: 'invalid_auth' }));
    });
  });
  server.unref();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function sign(body: string, signing: SigningOptions = {}): SignedRequest {
    const timestamp = String(signing.timestamp ?? Math.floor(Date.now() / 1000));
    // Slack's documented scheme, computed here independently of ADO's verifier.
    const signature = `v0=${createHmac('sha256', signing.secret ?? options.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature } };
  }

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: () => [...messages.values()],
    failNext: (method, error) => failures.set(method, error),
    click(message, actionId, user, clickOptions = {}) {
      const action = message.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })) : [])).find((e) => e.action_id === actionId);
      if (!action) throw new Error(`message ${message.ts} has no button ${actionId}`);
      const { typed = {}, ...signing } = clickOptions;
      // Every input of the message, as the user left it: Slack sends null for an empty one.
      const values: Record<string, Record<string, { type: string; value: string | null }>> = {};
      for (const block of message.blocks) {
        const input = block.type === 'input' ? block.element : undefined;
        if (input?.action_id) values[block.block_id ?? ''] = { [input.action_id]: { type: input.type, value: typed[input.action_id] ?? null } };
      }
      const payload = {
        type: 'block_actions',
        user: { id: user.id, username: user.username, name: user.username, team_id: 'T0ADO' },
        api_app_id: 'A0ADO',
        container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
        trigger_id: `${++sequence}.trigger`,
        team: { id: 'T0ADO', domain: 'ado' },
        channel: { id: message.channel, name: 'ado-approvals' },
        message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
        response_url: `http://127.0.0.1:${port}/actions/${message.ts}`,
        actions: [{ ...action, type: 'button', action_ts: `${Date.now() / 1000}` }],
        ...(Object.keys(values).length ? { state: { values } } : {}),
      };
      return sign(`payload=${encodeURIComponent(JSON.stringify(payload))}`, signing);
    },
    sign,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
