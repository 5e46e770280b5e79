#!/usr/bin/env node
// The `ado` command: the compiled CLI (built by `npm install` through the `prepare` script).
const { main } = require('../dist/cli/main.js');
main(process.argv).then((code) => process.exit(code));
