/**
 * The `ledger` example: a generated monorepo of eight packages and a little over 500 files, big
 * enough that a coder has to look for the code a task is about. Every file is a function of its
 * name, so every generated copy is the same repository (and its first commit the same commit).
 *
 * One module holds a bug the demo's task describes without naming the file: `formatAmount` in
 * packages/billing prints a refund of 12.34 EUR as "€-13.-34". Its test covers positive amounts
 * only, so the repository's gate passes until a test for refunds is added.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitAsSample } from './sample-repository';

/** The packages, each with the areas its modules are grouped in. */
const PACKAGES: Record<string, string[]> = {
  billing: ['money', 'invoices', 'taxes', 'payments', 'credits'],
  catalog: ['products', 'prices', 'categories', 'search', 'media'],
  customers: ['accounts', 'addresses', 'consents', 'segments', 'support'],
  inventory: ['stock', 'warehouses', 'reservations', 'counts', 'suppliers'],
  notifications: ['email', 'sms', 'templates', 'schedules', 'preferences'],
  orders: ['carts', 'checkout', 'returns', 'discounts', 'history'],
  reports: ['sales', 'exports', 'charts', 'periods', 'dashboards'],
  shipping: ['parcels', 'carriers', 'rates', 'tracking', 'labels'],
};

/** Verbs and nouns the generated modules are named from (area × verb × noun). */
const VERBS = ['normalize', 'summarize', 'validate', 'group', 'rank', 'merge', 'filter', 'index', 'count', 'select'];
const NOUNS = ['entries', 'records', 'items', 'lines', 'events', 'batches', 'pairs', 'keys', 'totals', 'labels'];

/** Modules per area; about a third of them have a test. */
const MODULES_PER_AREA = 10;

export const LEDGER_PROMPT =
  'Refunds are printed wrongly on invoices: a refund of 12.34 EUR (amount -1234 in cents) shows as "€-13.-34" instead of "-€12.34". Fix how amounts are formatted so that negative amounts read "-€12.34", keep positive amounts as they are, and add a test for refunds.';

/** The file the task needs changed (not named in the prompt), and its test. */
export const LEDGER_TARGET = { module: 'packages/billing/src/money/format-amount.js', test: 'packages/billing/test/format-amount.test.js' } as const;

const FORMAT_AMOUNT = `'use strict';
const { currencySymbol } = require('./currency-symbols');

/**
 * An amount in minor units (cents) as invoices print it: formatAmount(1234, 'EUR') is "€12.34".
 */
function formatAmount(minor, currency) {
  const symbol = currencySymbol(currency);
  const major = Math.floor(minor / 100);
  const cents = String(minor % 100).padStart(2, '0');
  return \`\${symbol}\${major}.\${cents}\`;
}

module.exports = { formatAmount };
`;

const CURRENCY_SYMBOLS = `'use strict';

const SYMBOLS = { EUR: '€', USD: '$', GBP: '£', JPY: '¥', CHF: 'CHF ' };

/** The symbol printed before an amount in \`currency\` (ISO 4217 code). */
function currencySymbol(currency) {
  const symbol = SYMBOLS[currency];
  if (symbol === undefined) throw new Error(\`Unknown currency: \${currency}\`);
  return symbol;
}

module.exports = { currencySymbol, SYMBOLS };
`;

const FORMAT_AMOUNT_TEST = `'use strict';
const assert = require('node:assert/strict');
const { formatAmount } = require('../src/money/format-amount');

assert.equal(formatAmount(1234, 'EUR'), '€12.34');
assert.equal(formatAmount(5, 'USD'), '$0.05');
assert.equal(formatAmount(100000, 'GBP'), '£1000.00');
`;

const INVOICE_LINES = `'use strict';
const { formatAmount } = require('../money/format-amount');

/** The printed lines of an invoice: one per item, then the total. */
function invoiceLines(invoice) {
  const lines = invoice.items.map((item) => \`\${item.description}  \${formatAmount(item.amount, invoice.currency)}\`);
  const total = invoice.items.reduce((sum, item) => sum + item.amount, 0);
  lines.push(\`Total  \${formatAmount(total, invoice.currency)}\`);
  return lines;
}

module.exports = { invoiceLines };
`;

/** Runs every package's tests in one process (the repository's \`test\` gate). */
const RUN_TESTS = `'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'packages');
let passed = 0;
const failed = [];
for (const pkg of fs.readdirSync(root).sort()) {
  const dir = path.join(root, pkg, 'test');
  if (!fs.existsSync(dir)) continue;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) {
    try {
      require(path.join(dir, file));
      passed++;
    } catch (err) {
      failed.push(\`packages/\${pkg}/test/\${file}: \${err.message}\`);
    }
  }
}
for (const line of failed) console.error(\`FAIL \${line}\`);
console.log(\`\${passed} test file(s) passed, \${failed.length} failed\`);
process.exit(failed.length ? 1 : 0);
`;

function camel(...words: string[]): string {
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

/** Module `index` of `area`: a small pure function over a list, and (for some) its test. */
function generatedModule(pkg: string, area: string, index: number): { name: string; source: string; test?: string } {
  const verb = VERBS[index % VERBS.length]!;
  const noun = NOUNS[(index * 3 + area.length) % NOUNS.length]!;
  const name = `${verb}-${area}-${noun}`;
  const fn = camel(verb, area, noun);
  const source = `'use strict';

/** ${verb[0]!.toUpperCase()}${verb.slice(1)}s the ${noun} of ${pkg}'s ${area}: keeps those with a key, ordered by key. */
function ${fn}(${noun}) {
  return ${noun}
    .filter((entry) => entry && entry.key !== undefined)
    .map((entry) => ({ ...entry, area: '${area}' }))
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

module.exports = { ${fn} };
`;
  const test =
    index % 3 === 0
      ? `'use strict';
const assert = require('node:assert/strict');
const { ${fn} } = require('../src/${area}/${name}');

assert.deepEqual(${fn}([{ key: 'b' }, null, { key: 'a' }, {}]), [
  { key: 'a', area: '${area}' },
  { key: 'b', area: '${area}' },
]);
`
      : undefined;
  return { name, source, test };
}

/** Every file of the repository: path → content. */
export function ledgerFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('README.md', '# ledger\n\nA shop back office: eight packages under packages/, tests in each package\'s test/ folder.\nRun them all with `node scripts/run-tests.js`.\n');
  files.set('package.json', `${JSON.stringify({ name: 'ledger', private: true, workspaces: ['packages/*'], scripts: { test: 'node scripts/run-tests.js' } }, null, 2)}\n`);
  files.set('.ado.yml', '# How ADO runs this repository (see ADO\'s README, "Repository config").\ngates:\n  test: node scripts/run-tests.js\n');
  files.set('.gitignore', 'node_modules/\n');
  files.set('scripts/run-tests.js', RUN_TESTS);
  for (const [pkg, areas] of Object.entries(PACKAGES)) {
    const base = `packages/${pkg}`;
    files.set(`${base}/package.json`, `${JSON.stringify({ name: `@ledger/${pkg}`, version: '1.0.0', main: 'src/index.js' }, null, 2)}\n`);
    files.set(`${base}/README.md`, `# @ledger/${pkg}\n\nAreas: ${areas.join(', ')}.\n`);
    const exports: string[] = [];
    for (const area of areas) {
      for (let i = 0; i < MODULES_PER_AREA; i++) {
        const mod = generatedModule(pkg, area, i);
        files.set(`${base}/src/${area}/${mod.name}.js`, mod.source);
        if (mod.test) files.set(`${base}/test/${mod.name}.test.js`, mod.test);
        exports.push(`  ...require('./${area}/${mod.name}'),`);
      }
    }
    if (pkg === 'billing') {
      files.set('packages/billing/src/money/currency-symbols.js', CURRENCY_SYMBOLS);
      files.set(LEDGER_TARGET.module, FORMAT_AMOUNT);
      files.set(LEDGER_TARGET.test, FORMAT_AMOUNT_TEST);
      files.set('packages/billing/src/invoices/invoice-lines.js', INVOICE_LINES);
      exports.push("  ...require('./money/format-amount'),", "  ...require('./invoices/invoice-lines'),");
    }
    files.set(`${base}/src/index.js`, `'use strict';\n\nmodule.exports = {\n${exports.join('\n')}\n};\n`);
  }
  return files;
}

/** Writes the ledger repository into `<parent>/ledger` (which must not exist yet) as a git repository with one commit; returns its path. */
export async function createLedgerRepository(parent: string): Promise<string> {
  const dir = path.join(parent, 'ledger');
  await mkdir(parent, { recursive: true });
  await mkdir(dir);
  for (const [rel, content] of ledgerFiles()) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  await commitAsSample(dir, 'Initial commit: the ledger monorepo');
  return dir;
}
