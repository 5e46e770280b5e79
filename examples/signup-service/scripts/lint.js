'use strict';
// House rules: no `var`, no console.log in src/, no trailing whitespace.
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const problems = [];
for (const dir of ['src', 'test', 'scripts']) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const name = path.join(dir, file);
    readFileSync(name, 'utf8').split('\n').forEach((line, i) => {
      const where = `${name}:${i + 1}`;
      if (/\bvar\s/.test(line)) problems.push(`${where}: use const or let, not var`);
      if (/\s+$/.test(line)) problems.push(`${where}: trailing whitespace`);
      if (dir === 'src' && /console\.log/.test(line)) problems.push(`${where}: no console.log in src`);
    });
  }
}
for (const p of problems) process.stderr.write(`${p}\n`);
process.exit(problems.length ? 1 : 0);
