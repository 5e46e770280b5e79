'use strict';
// Typecheck gate of a plain-JavaScript project: every source file must parse.
const { execFileSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

let failed = 0;
for (const dir of ['src', 'test', 'scripts']) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    try {
      execFileSync(process.execPath, ['--check', path.join(dir, file)], { stdio: 'pipe' });
    } catch (err) {
      failed++;
      process.stderr.write(String(err.stderr));
    }
  }
}
process.exit(failed ? 1 : 0);
