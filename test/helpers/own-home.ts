/**
 * Before each test file: an ADO home of its own. Without it, ADO code under test would use
 * `./.ado` of the clone, where `ado dev` or `npm run demo` leave a payload key, a store and a
 * `stack.json` that would change what the test sees. A test that needs another home sets its own.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

process.env.ADO_HOME = mkdtempSync(path.join(os.tmpdir(), 'ado-test-home-'));
