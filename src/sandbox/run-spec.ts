/** Checks of a `SandboxRunSpec` both backends make before starting anything. */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type AdoError, FailureType, nonRetryable } from '../domain/errors';
import type { SandboxRunSpec } from './types';

function invalid(message: string, cause?: unknown): AdoError {
  return nonRetryable(FailureType.InvalidInput, message, { cause });
}

/**
 * The workdir's real path (symlinks resolved: it is bound and handed over as the folder it is).
 * Throws a non-retryable `InvalidInput` error when the command is empty or the workdir is not an
 * existing folder.
 */
export async function checkedWorkdir(spec: SandboxRunSpec): Promise<string> {
  if (typeof spec.command !== 'string' || spec.command.trim() === '') {
    throw invalid('Sandbox command is empty: give the shell command line to run.');
  }
  if (!path.isAbsolute(spec.workdir)) {
    throw invalid(`Sandbox workdir must be an absolute path, got ${JSON.stringify(spec.workdir)}.`);
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(spec.workdir)).isDirectory();
  } catch (error) {
    throw invalid(`Sandbox workdir ${spec.workdir} does not exist: prepare the workspace before running commands in it.`, error);
  }
  if (!isDirectory) throw invalid(`Sandbox workdir ${spec.workdir} is not a folder.`);
  return realpath(spec.workdir);
}
