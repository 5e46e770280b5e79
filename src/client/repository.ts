import { existsSync } from 'node:fs';
import path from 'node:path';
import { AdoError } from '../domain/errors';
import { loadRepoConfig } from '../gates/config';
import { firstLines, git, GitCommandError, gitOrNull } from '../workspace/git';
import { InvalidTaskInputError } from './errors';

/** git URLs ADO accepts as they are: scheme URLs and scp-like `user@host:path`. */
export function isGitUrl(repository: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[\w.-]+@[\w.-]+:/.test(repository);
}

/**
 * Normalises a repository given by a user: URLs stay, local paths become absolute and must be a
 * git repository. Throws `InvalidTaskInputError` saying what to give instead.
 */
export async function resolveRepository(repository: string, cwd = process.cwd()): Promise<string> {
  const trimmed = repository.trim();
  if (!trimmed) throw new InvalidTaskInputError('No repository given: pass --repo <path to a git repository | git URL>.');
  if (isGitUrl(trimmed)) return trimmed;
  const absolute = path.resolve(cwd, trimmed);
  if (!existsSync(absolute)) {
    throw new InvalidTaskInputError(`Repository ${absolute} does not exist: pass --repo <path to a git repository | git URL>.`);
  }
  try {
    return (await git(['rev-parse', '--show-toplevel'], { cwd: absolute })).trim();
  } catch {
    throw new InvalidTaskInputError(`${absolute} is not a git repository: run \`git init\` and commit there, or pass another --repo.`);
  }
}

/** A repository and base branch a task can start from, as the pre-flight found them. */
export interface CheckedRepository {
  /** The repository as the task will name it (see `resolveRepository`). */
  repository: string;
  /** The base branch: the one asked for, or the repository's current branch. */
  branch: string;
  /** The base commit the task would start from today. */
  baseSha: string;
}

/**
 * The pre-flight of `ado run` and `POST /api/tasks`: everything a worker would find wrong later
 * with the repository, checked before a task starts — it resolves and answers, the base branch
 * exists and has a commit, and (for a local repository) its `.ado.yml` or `ado.config.json` at
 * that commit parses. Throws `InvalidTaskInputError` saying what to change; starts nothing.
 */
export async function checkRepository(repository: string, branch: string, cwd = process.cwd()): Promise<CheckedRepository> {
  const location = await resolveRepository(repository, cwd);
  const wanted = branch.trim();
  if (wanted && (await gitOrNull(['check-ref-format', `refs/heads/${wanted}`])) === null) {
    throw new InvalidTaskInputError(`--branch ${JSON.stringify(wanted)} is not a valid git branch name.`, { field: 'branch' });
  }
  let listing: string;
  try {
    listing = await git(['ls-remote', '--symref', location, 'HEAD', ...(wanted ? [`refs/heads/${wanted}`] : [])]);
  } catch (err) {
    const why = err instanceof GitCommandError ? firstLines(err.stderr, 2) : String(err);
    throw new InvalidTaskInputError(`Cannot read repository ${location}: ${oneLine(why)}. Check the URL and your access to it, or pass a local path.`, { cause: err });
  }
  const current = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(listing)?.[1];
  const base = wanted || current;
  if (!base && /\tHEAD$/m.test(listing)) throw new InvalidTaskInputError(`Cannot tell the current branch of ${location} (detached HEAD?): pass --branch <name>.`);
  const baseSha = base === undefined ? undefined : shaOf(listing, `refs/heads/${base}`) ?? (base === current ? shaOf(listing, 'HEAD') : undefined);
  if (!base || !baseSha) {
    if (!wanted) throw new InvalidTaskInputError(`Repository ${location} has no commits yet: commit your code first (a task starts from a commit).`);
    const heads = (await gitOrNull(['ls-remote', '--heads', location])) ?? '';
    const names = heads.split('\n').flatMap((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1] ?? []);
    const available = names.length > 0 ? `its branches: ${names.slice(0, 20).join(', ')}` : 'it has no commits yet';
    throw new InvalidTaskInputError(`Branch ${wanted} does not exist in ${location} (${available}): pass an existing --branch, or none for the current branch.`, { field: 'branch' });
  }
  if (!isGitUrl(location)) await checkRepoConfig(location, base, baseSha);
  return { repository: location, branch: wanted, baseSha };
}

/** The repository's own config at the base commit must parse: a worker would refuse it before any model call. */
async function checkRepoConfig(location: string, branch: string, sha: string): Promise<void> {
  try {
    await loadRepoConfig((name) => gitOrNull(['show', `${sha}:${name}`], { cwd: location, keepTrailingNewline: true }));
  } catch (err) {
    if (!(err instanceof AdoError)) throw err;
    throw new InvalidTaskInputError(`The repository's config on ${branch} (${sha.slice(0, 12)}) cannot be used: ${oneLine(err.message)}. Fix it and commit, then start the task again.`, { cause: err });
  }
}

/** A message of git or a parser on one line, without the punctuation it ended with. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/[\s.:]+$/, '');
}

/** The commit `ref` names in a `git ls-remote` listing. */
function shaOf(listing: string, ref: string): string | undefined {
  return listing.split('\n').find((line) => line.endsWith(`\t${ref}`) && !line.startsWith('ref: '))?.split('\t')[0];
}
