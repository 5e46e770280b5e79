'use strict';
// Build: copy the sources to dist/ with a banner (what a bundler would do, without one).
const { mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

mkdirSync('dist', { recursive: true });
for (const file of readdirSync('src').filter((f) => f.endsWith('.js'))) {
  const source = readFileSync(path.join('src', file), 'utf8');
  writeFileSync(path.join('dist', file), `// built from src/${file}\n${source}`);
}
