// The status line at the bottom of the screen, where a thumb-held phone is looked at: what was
// just done, and what went wrong, in Chinese. Errors stay until closed; the rest fade.
const QUIET_MS = 6000;
let timer = null;

export function say(text, { error = false } = {}) {
  const root = document.getElementById('status');
  document.getElementById('status-text').textContent = text;
  root.classList.toggle('error', error);
  root.setAttribute('role', error ? 'alert' : 'status');
  root.hidden = false;
  clearTimeout(timer);
  if (!error) timer = setTimeout(() => { root.hidden = true; }, QUIET_MS);
}

export function quiet() {
  clearTimeout(timer);
  document.getElementById('status').hidden = true;
}

document.getElementById('status-close')?.addEventListener('click', quiet);
