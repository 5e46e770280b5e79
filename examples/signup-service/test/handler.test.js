'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { handleSignup } = require('../src/handler');

test('accepts a complete signup', () => {
  const response = handleSignup({ email: 'ana@example.com', password: 'correct horse battery' });
  assert.equal(response.status, 201);
  assert.deepEqual(response.body, { email: 'ana@example.com' });
});

test('rejects a body that is not an object', () => {
  assert.equal(handleSignup('nope').status, 400);
});
