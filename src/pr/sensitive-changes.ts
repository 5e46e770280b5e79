/**
 * The files of a change that decide how code is built, installed and checked: ADO's own config,
 * CI, manifests and their scripts, lockfiles, test and lint configuration, package-manager and git
 * configuration. ADO judges a task with its base commit's config, so edits to these did not
 * weaken the checks the task passed; they take effect once merged, and a reviewer should read
 * them first. Pull requests and the `pr` checkpoint list them at the top.
 */
import { git } from '../workspace/git';

/** What a path is, by the first rule it matches (on its path, or on its file name). */
const RULES: Array<{ kind: string; path?: RegExp; name?: RegExp }> = [
  { kind: 'ADO configuration', name: /^(\.ado\.ya?ml|ado\.config\.json)$/ },
  {
    kind: 'CI',
    path: /^(\.github\/|\.gitlab-ci\.ya?ml$|\.gitlab\/|\.circleci\/|\.buildkite\/|\.woodpecker|\.drone\.ya?ml$|\.travis\.ya?ml$|azure-pipelines\.ya?ml$|bitbucket-pipelines\.ya?ml$|Jenkinsfile$)/,
  },
  {
    kind: 'lockfile',
    name: /^(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.ya?ml|bun\.lockb?|poetry\.lock|Pipfile\.lock|uv\.lock|pdm\.lock|Cargo\.lock|go\.sum|Gemfile\.lock|composer\.lock|packages\.lock\.json|gradle\.lockfile)$/,
  },
  {
    kind: 'manifest and build scripts',
    name: /^(package\.json|pyproject\.toml|setup\.py|setup\.cfg|requirements[\w.-]*\.(txt|in)|Pipfile|Cargo\.toml|go\.mod|Gemfile|[\w.-]+\.gemspec|composer\.json|pom\.xml|build\.gradle(\.kts)?|settings\.gradle(\.kts)?|(GNU)?[Mm]akefile|CMakeLists\.txt|Dockerfile|Taskfile\.ya?ml|justfile)$/,
  },
  {
    kind: 'test and lint configuration',
    name: /^((jest|vitest|vite|karma|ava|playwright|cypress|babel|webpack|rollup)\.config\.[\w.]+|vitest\.workspace\.[\w.]+|\.mocharc(\.[\w]+)?|\.nycrc(\.[\w]+)?|\.babelrc(\.[\w]+)?|pytest\.ini|tox\.ini|conftest\.py|noxfile\.py|\.coveragerc|phpunit\.xml(\.dist)?|tsconfig[\w.-]*\.json|\.eslintrc(\.[\w]+)?|eslint\.config\.[\w]+|\.prettierrc(\.[\w]+)?|ruff\.toml|\.flake8|mypy\.ini|\.golangci\.ya?ml|clippy\.toml|rustfmt\.toml)$/,
  },
  { kind: 'package manager configuration', name: /^(\.npmrc|\.yarnrc(\.yml)?|\.pnpmfile\.cjs|pip\.conf|\.pypirc)$/, path: /(^|\/)\.cargo\// },
  { kind: 'git configuration and hooks', path: /(^|\/)(\.gitattributes|\.gitmodules)$|^\.husky\// },
];

const STATUS: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', T: 'type changed' };

/** The rule's kind for `path`, or undefined when it is ordinary code. */
export function sensitiveKind(path: string): string | undefined {
  const name = path.split('/').pop() ?? path;
  return RULES.find((rule) => (rule.path?.test(path) ?? false) || (rule.name?.test(name) ?? false))?.kind;
}

/**
 * The sensitive files `head` changes since it left `base` (as a pull request shows them), one
 * line each: "`package.json`: manifest and build scripts, modified".
 */
export async function sensitiveChanges(repoDir: string, base: string, head: string): Promise<string[]> {
  const listing = await git(['diff', '--name-status', '--no-renames', '-z', `${base}...${head}`], { cwd: repoDir });
  const fields = listing.split('\0');
  const changes: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i] ?? '';
    const path = fields[i + 1] ?? '';
    const kind = sensitiveKind(path);
    if (kind !== undefined) changes.push(`\`${path}\`: ${kind}, ${STATUS[status[0] ?? ''] ?? status}`);
  }
  return changes;
}

/** The section that opens a pull request's description when it has sensitive changes. */
export function sensitiveChangesSection(changes: readonly string[]): string {
  return [
    '> [!WARNING]',
    '> **Review these first.** This change edits files that decide how code is built, installed or checked.',
    "> ADO checked it with the base branch's versions of them; these edits take effect once merged.",
    ...changes.map((change) => `> - ${change}`),
  ].join('\n');
}
