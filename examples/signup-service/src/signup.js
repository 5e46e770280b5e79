'use strict';

/**
 * Checks a signup form submission.
 * @param {{ email?: unknown, password?: unknown }} form
 * @returns {{ ok: boolean, errors: string[] }}
 */
function validateSignup(form) {
  const errors = [];
  if (form === null || typeof form !== 'object') {
    errors.push('form: expected an object');
  }
  return { ok: errors.length === 0, errors };
}

module.exports = { validateSignup };
