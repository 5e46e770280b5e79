'use strict';

const { validateSignup } = require('./signup');

/**
 * Handles a signup request body.
 * @param {unknown} body
 * @returns {{ status: number, body: object }}
 */
function handleSignup(body) {
  const result = validateSignup(body);
  if (!result.ok) {
    return { status: 400, body: { errors: result.errors } };
  }
  return { status: 201, body: { email: body.email } };
}

module.exports = { handleSignup };
