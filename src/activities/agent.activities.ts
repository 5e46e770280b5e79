/**
 * The coding session's activities (pool `code`): one model turn, one tool call on the task's
 * warm workspace (see task-tree.ts), and the condensation of a conversation grown near the
 * model's context window (each turn reports how full it is; the session decides). Bulky data
 * never travels through workflow history: the conversation, each model answer, each summary and
 * each observation are stored in the ADO store under keys named for what they hold (session,
 * turn, step), and the workflow passes those keys. The keys make the activities safe to run
 * twice: a turn or condensation whose answer is stored already does not ask the model again (a
 * worker that died after the model answered costs no second call), and a tool call's edit commit
 * is found again on the task branch.
 */
import { agentConfigFromEnv, type AgentConfig } from '../agent/config';
import {
  condensationCut,
  condensationPrompt,
  condensed,
  conversationTokens,
  elideObservations,
  needsCondensation,
  type CondensationCut,
  type SessionMessage,
} from '../agent/conversation';
import { openingMessages } from '../agent/prompt';
import { assistantMessage, observationMessage, parseCalls, turnRequest } from '../agent/protocol';
import { RepoMapCache } from '../agent/repo-map';
import { runTool } from '../agent/run-tool';
import type { QualityGatesResult } from '../domain/quality-gates';
import type { ToolObservation } from '../agent/types';
import { EDITING_TOOLS, JUDGING_TOOLS, parseToolCall, READING_TOOLS, shortArgument } from '../domain/agent-tools';
import { FailureType, nonRetryable } from '../domain/errors';
import { errorFingerprint, hash53 } from '../domain/fingerprint';
import { ZERO_USAGE } from '../domain/task';
import type { ChatResponse, LlmClient } from '../llm/types';
import type { AgentBlobRepository } from '../store/types';
import type { Logger } from '../telemetry/logger';
import { activityRun, type ActivityRun } from './context';
import type { AgentCallSummary, CodeActivities } from './interfaces';
import { loadBaseConfig } from './repo-commands';
import { withTaskTree, type TaskTreeDeps } from './task-tree';

/** What the model is told when setup failed before its tool could run. */
function setupFailure(tool: string, failed: QualityGatesResult): ToolObservation {
  const why = failed.failures.map((f) => `--- ${f.tool}${f.exitCode === undefined ? '' : ` (exit ${f.exitCode})`}\n${f.message}`).join('\n');
  return { ok: false, text: `The repository's setup failed, so ${tool} did not run:\n${why}` };
}

export interface AgentActivityDeps extends TaskTreeDeps {
  logger: Logger;
  llm: LlmClient;
  store: { agentBlobs: AgentBlobRepository };
  /** @default the built-in settings (`agentConfigFromEnv({})`) */
  agent?: AgentConfig;
}

/** Parsed tags of files by content, shared by the sessions of this worker. */
const repoMapCache = new RepoMapCache();

export function createAgentActivities(deps: AgentActivityDeps): Pick<CodeActivities, 'agentTurn' | 'agentToolCall' | 'condenseConversation'> {
  const { llm } = deps;
  // Read when called: a factory is built before anything runs (the pool test builds it from nothing).
  const blobs = () => deps.store.agentBlobs;
  const agent = deps.agent ?? agentConfigFromEnv({});

  async function loadConversation(key: string): Promise<SessionMessage[]> {
    const text = await blobs().get(key);
    if (text === undefined) throw nonRetryable(FailureType.NotRecoverable, `The coding session's conversation ${key} is not in the ADO store (was the store reset?).`);
    return JSON.parse(text) as SessionMessage[];
  }

  /** The model's answer for `key`: the stored one when this turn ran before, else a new call, stored before use. */
  async function answerOnce(key: string, taskId: string, ask: () => Promise<ChatResponse>): Promise<ChatResponse> {
    const stored = await blobs().get(key);
    if (stored !== undefined) return JSON.parse(stored) as ChatResponse;
    return JSON.parse(await blobs().putOnce(key, taskId, JSON.stringify(await ask()))) as ChatResponse;
  }

  /** The model's summary of `cut`'s middle, asked once for the turn it precedes. */
  function summarise(cut: CondensationCut, id: { taskId: string; iteration: number; turn: number }, sessionId: string, run: ActivityRun): Promise<ChatResponse> {
    return answerOnce(`${sessionId}/condense/${id.turn}`, id.taskId, () =>
      llm.chat({ role: 'coder', purpose: 'condense', ...id, messages: condensationPrompt(cut.middle), signal: run.signal, onProgress: run.onProgress }),
    );
  }

  return {
    async agentTurn(input) {
      const run = activityRun(deps.logger, input.taskId);
      const id = { taskId: input.taskId, iteration: input.iteration, turn: input.turn };
      let messages = input.conversationKey ? await loadConversation(input.conversationKey) : openingMessages(input.brief ?? { prompt: '' });
      for (const result of input.results) {
        const text = result.key ? ((await blobs().get(result.key)) ?? '(observation lost)') : (result.text ?? '');
        messages.push(observationMessage(result.callId, result.step ?? 0, text, agent.toolProtocol, result.key));
      }
      if (input.guidance?.length) messages.push({ role: 'user', content: input.guidance.join('\n') });
      messages = elideObservations(messages);

      let usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
      let wasCondensed = false;
      // Sessions from before `condenseConversation` condense here, before the model is asked.
      const cut = !input.workflowCondenses && needsCondensation(messages, agent.contextWindow) ? condensationCut(messages) : undefined;
      if (cut) {
        const summary = await summarise(cut, id, input.sessionId, run);
        usage = summary.usage;
        messages = condensed(cut, summary.content);
        wasCondensed = true;
      }

      const response = await answerOnce(`${input.sessionId}/answer/${input.turn}`, input.taskId, () =>
        llm.chat({ ...turnRequest(id, messages, agent.toolProtocol), signal: run.signal, onProgress: run.onProgress }),
      );
      const assistant = assistantMessage(response, agent.toolProtocol, id);
      messages.push(assistant);
      const conversationKey = `${input.sessionId}/conversation/${input.turn}`;
      await blobs().putOnce(conversationKey, input.taskId, JSON.stringify(messages));

      const calls: AgentCallSummary[] = parseCalls(assistant, id).map((parsed) =>
        parsed.ok
          ? { callId: parsed.call.id, ok: true, tool: parsed.call.name, argument: shortArgument(parsed.call) }
          : { callId: parsed.id, ok: false, tool: assistant.toolCalls?.find((c) => c.id === parsed.id)?.name ?? '(none)', argument: '', error: parsed.error },
      );
      run.logger.info({ iteration: input.iteration, turn: input.turn, calls: calls.map((c) => `${c.tool}${c.ok ? '' : '!'}`) }, 'Model turn');
      return {
        conversationKey,
        calls,
        usage: {
          promptTokens: usage.promptTokens + response.usage.promptTokens,
          completionTokens: usage.completionTokens + response.usage.completionTokens,
          totalTokens: usage.totalTokens + response.usage.totalTokens,
          ...(response.usage.costUsd === undefined ? {} : { costUsd: response.usage.costUsd }),
        },
        condensed: wasCondensed,
        context: { tokens: conversationTokens(messages), window: agent.contextWindow },
      };
    },

    async condenseConversation(input) {
      const run = activityRun(deps.logger, input.taskId);
      const messages = await loadConversation(input.conversationKey);
      const before = conversationTokens(messages);
      const cut = condensationCut(messages);
      if (!cut) return { conversationKey: input.conversationKey, usage: ZERO_USAGE, tokens: { before, after: before } };
      const summary = await summarise(cut, { taskId: input.taskId, iteration: input.iteration, turn: input.turn }, input.sessionId, run);
      const summaryKey = `${input.sessionId}/summary/${input.turn}`;
      await blobs().putOnce(summaryKey, input.taskId, summary.content);
      const next = condensed(cut, summary.content);
      const conversationKey = `${input.sessionId}/conversation/${input.turn}/condensed`;
      await blobs().putOnce(conversationKey, input.taskId, JSON.stringify(next));
      const after = conversationTokens(next);
      run.logger.info({ iteration: input.iteration, turn: input.turn, summarised: cut.middle.length, tokensBefore: before, tokensAfter: after }, 'Conversation condensed');
      return { conversationKey, summaryKey, usage: summary.usage, tokens: { before, after } };
    },

    async agentToolCall(input) {
      const run = activityRun(deps.logger, input.taskId);
      const messages = await loadConversation(input.conversationKey);
      const raw = messages.findLast((m) => m.role === 'assistant')?.toolCalls?.find((c) => c.id === input.callId);
      const parsed = raw ? parseToolCall(raw) : undefined;
      if (!parsed?.ok) throw nonRetryable(FailureType.InvalidInput, `Call ${input.callId} is not a usable tool call of ${input.conversationKey}.`);
      const call = parsed.call;
      const started = Date.now();
      return withTaskTree(deps, input.taskId, input.repo, run, async ({ workspace, setup }) => {
        const repoConfig = await loadBaseConfig(workspace, input.taskId, input.baseSha);
        // The gates judge the commit and what setup installed, nothing an earlier run left; a run
        // needs what setup installed, installed again when an earlier run changed it (a failure
        // shows in what the tool reports, as a missing dependency).
        const setupFailed = JUDGING_TOOLS.has(call.name) || (call.name === 'run' && workspace.setupOutputsLost) ? await setup(repoConfig, input.baseSha) : undefined;
        const step = `step ${input.step}: ${call.name} ${shortArgument(call)}`.trimEnd();
        run.report(step);
        // After a command in the tree (the gates of run_gates and finish run on private trees), only the
        // content of its files counts at the next sync; said before it runs, since a call cut
        // short wrote the tree too.
        if (call.name === 'run') workspace.ranCommands();
        // An edit may write a file git ignores, never committed, or one setup installed.
        if (EDITING_TOOLS.has(call.name)) workspace.wroteFiles();
        const observation = setupFailed ? setupFailure(call.name, setupFailed) : await runTool(call, { workspaceDir: workspace.dir, sandbox: deps.sandbox, repoConfig, signal: run.signal, onProgress: run.onProgress, report: (doing) => run.report(`${step}: ${doing}`), repoMapCache });
        // The next call on this warm tree then finds it as it is, without asking git.
        if (READING_TOOLS.has(call.name)) workspace.leftUnchanged();
        const sha = observation.changed?.length
          ? await workspace.commitAndPush({ branch: input.taskBranch, message: `ado(${input.taskId}): ${call.name} ${shortArgument(call)} (step ${input.step})` })
          : workspace.sha;
        const observationKey = `${input.sessionId}/observation/${input.step}`;
        const text = await blobs().putOnce(observationKey, input.taskId, observation.text);
        return {
          sha,
          ok: observation.ok,
          observationKey,
          actionHash: hash53(`${call.name}\0${JSON.stringify(call.args)}`),
          observationHash: errorFingerprint(text),
          durationMs: Date.now() - started,
          ...(observation.finished ? { finished: observation.finished } : {}),
        };
      });
    },
  };
}
