'use strict';
// `execute`: load the handler and answer one request, as the service would at start.
const { handleSignup } = require('../src/handler');

const response = handleSignup({ email: 'smoke@example.com', password: 'long enough password' });
if (response.status !== 201) {
  process.stderr.write(`smoke: expected 201, got ${response.status} ${JSON.stringify(response.body)}\n`);
  process.exit(1);
}
