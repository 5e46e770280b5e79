// The console's shell: a hash router (#/ and #/tasks/<id>), the token form, error banners.
import { token } from './api.js';
import { fill, h } from './dom.js';
import { listView } from './list.js';
import { taskView } from './task.js';

const main = document.getElementById('app');
const signOut = document.getElementById('sign-out');
let view;

/** What every view may do besides rendering itself. */
const shell = {
  /** Shows an error; an authentication error asks for a token instead. */
  fail(error) {
    if (error?.isAuth) return askForToken(error);
    console.error(error);
    main.prepend(h('div', { class: 'banner error', role: 'alert' }, error?.message ?? String(error)));
  },
};

function route() {
  view?.stop();
  const match = /^#\/tasks\/([^/?]+)/.exec(location.hash);
  view = match ? taskView(decodeURIComponent(match[1]), shell) : listView(shell);
  fill(main, view.element);
  signOut.hidden = !token.get();
}

function askForToken(error) {
  view?.stop();
  view = undefined;
  const had = token.get();
  token.clear();
  const input = h('input', { name: 'token', type: 'password', autocomplete: 'off', required: true, placeholder: 'token', 'aria-label': 'API token' });
  const form = h(
    'form',
    {
      class: 'card token-form',
      onsubmit: (event) => {
        event.preventDefault();
        token.set(input.value.trim());
        route();
      },
    },
    h('h1', {}, 'API token'),
    h('p', {}, 'This ADO API needs a bearer token (one of ADO_API_TOKENS). It is kept in this browser tab only, until you close it.'),
    had && error.status === 403 ? h('p', { class: 'banner error', role: 'alert' }, 'That token was not accepted. Check it and try again.') : null,
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Continue')),
  );
  fill(main, form);
  signOut.hidden = true;
  input.focus();
}

signOut.addEventListener('click', () => {
  token.clear();
  route();
});
window.addEventListener('hashchange', route);
route();
