/**
 * One tool call against the workspace: the dispatch from a checked call to its tool. A path the
 * workspace refuses (outside it, into `.git`, through a symbolic link) is the model's mistake and
 * comes back as an observation; anything else (a full disk, a sandbox that cannot start) is
 * thrown for the activity's retry.
 */
import type { AgentToolCall } from '../domain/agent-tools';
import { AdoError, FailureType } from '../domain/errors';
import { applyPatch } from './apply-patch';
import { create, insert, strReplace } from './editor';
import { findFiles } from './find-files';
import { repoMap } from './repo-map';
import { finish, runCommand, runRepoGates } from './run-command';
import { search } from './search';
import { refused, type ToolContext, type ToolObservation } from './types';
import { view } from './view';

/** Runs `call` in `ctx`; see the module comment for what is thrown. */
export async function runTool(call: AgentToolCall, ctx: ToolContext): Promise<ToolObservation> {
  try {
    return await dispatch(call, ctx);
  } catch (err) {
    if (err instanceof AdoError && err.type === FailureType.InvalidInput) return refused(`${call.name} refused: ${err.message}.`);
    throw err;
  }
}

function dispatch(call: AgentToolCall, ctx: ToolContext): Promise<ToolObservation> {
  switch (call.name) {
    case 'view':
      return view(call.args, ctx);
    case 'search':
      return search(call.args, ctx);
    case 'find_files':
      return findFiles(call.args, ctx);
    case 'repo_map':
      return repoMap(call.args, ctx);
    case 'str_replace':
      return strReplace(call.args, ctx);
    case 'create':
      return create(call.args, ctx);
    case 'insert':
      return insert(call.args, ctx);
    case 'apply_patch':
      return applyPatch(call.args, ctx);
    case 'run':
      return runCommand(call.args, ctx);
    case 'run_gates':
      return runRepoGates(ctx);
    case 'finish':
      return finish(call.args, ctx);
  }
}
