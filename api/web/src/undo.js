// Undo and confirmation, one place for the page: a toast after each edit with 撤销 for 15 s
// (POST /api/changes/{id}/revert), a confirmation dialog for destructive actions, and the
// change log of an area with 撤销 per row. The server decides whether a change can still be
// undone; a refusal names each organization and why.
import { get, request, seg } from './api.js';
import { el } from './dom.js';
import { t } from './i18n.js';
import { canEdit, state } from './state.js';

// Changes the server does not revert (it answers 409): no 撤销 beside them. A visit is corrected
// by another visit; a site or a contact point is set or taken back again.
const NOT_REVERTIBLE = new Set(['import_areas', 'import_instructors', 'visit', 'site', 'site_removed', 'contact_point', 'contact_point_removed']);

const TOAST_MS = 15000;
let toastTimer = null;

function toastRoot() {
  let root = document.getElementById('toast');
  if (!root) {
    root = el('div', { id: 'toast', className: 'toast', hidden: true });
    root.setAttribute('role', 'status');
    root.setAttribute('aria-live', 'polite');
    document.body.append(root);
  }
  return root;
}

/** Shows text in the toast; with a change id, a 撤销 button that reverts it. */
export function toast(text, { changeId = null, error = false, undo = null } = {}) {
  state.mine(changeId);
  const root = toastRoot();
  clearTimeout(toastTimer);
  const parts = [el('span', { className: 'toast-text', textContent: text })];
  // 撤销: the change reverted through the change log, or `undo` (a panel's own opposite write,
  // for changes the log does not revert); pressed once.
  if ((changeId || undo) && canEdit()) {
    const button = el('button', { type: 'button', className: 'secondary', textContent: t('undo.button') });
    button.dataset.action = 'undo';
    if (changeId) button.dataset.change = String(changeId);
    button.addEventListener('click', () => {
      button.disabled = true;
      if (undo) undo();
      else revert(changeId);
    });
    parts.push(button);
  }
  const close = el('button', { type: 'button', className: 'link', textContent: '×' });
  close.setAttribute('aria-label', t('undo.close'));
  close.addEventListener('click', () => { root.hidden = true; });
  parts.push(close);
  root.className = `toast${error ? ' error' : ''}`;
  root.setAttribute('role', error ? 'alert' : 'status');
  root.replaceChildren(...parts);
  root.hidden = false;
  toastTimer = setTimeout(() => { root.hidden = true; }, TOAST_MS);
}

/** The refusal's reasons, one line per organization, by name where the page can find it. */
async function conflictText(conflicts) {
  const lines = [];
  for (const c of (conflicts ?? []).slice(0, 5)) {
    let name = c.org ?? '';
    if (c.org) {
      try { name = (await get(`/api/orgs/${seg(c.org)}`)).name; } catch { /* gone: its id */ }
    }
    lines.push(name ? `${name}：${c.reason}` : c.reason);
  }
  if ((conflicts ?? []).length > 5) lines.push(t('undo.more', { n: conflicts.length - 5 }));
  return lines.join('；');
}

/** Reverts a change; the answer goes to the toast. */
export async function revert(changeId) {
  try {
    const { data } = await request('POST', `/api/changes/${seg(changeId)}/revert`);
    state.mine(data?.change_id);
    state.changed();
    toast(t('undo.done'));
    return true;
  } catch (e) {
    const why = e.status === 409 ? await conflictText(e.body?.conflicts) : '';
    toast(why ? t('undo.refused', { why }) : (e.status === 409 ? e.message : e.plain ?? String(e)), { error: true });
    return false;
  }
}

/** Asks before a destructive action: resolves true for 确定, false for 取消 or Esc. */
export function confirmAction(text, okLabel = t('confirm.ok')) {
  return new Promise((resolve) => {
    const dialog = el('dialog', { className: 'confirm' });
    const ok = el('button', { type: 'button', className: 'primary', textContent: okLabel });
    ok.dataset.action = 'confirm';
    const cancel = el('button', { type: 'button', className: 'secondary', textContent: t('confirm.cancel') });
    cancel.dataset.action = 'cancel';
    dialog.append(el('p', { textContent: text }), el('div', { className: 'actions' }, cancel, ok));
    const finish = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    ok.addEventListener('click', () => finish(true));
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** The change log of an area: newest first, 撤销 per row for planners. */
export async function changeLog(code) {
  const section = el('section', { className: 'changes' }, el('h4', { textContent: t('changes.title') }));
  let items = [];
  try {
    items = (await get(`/api/changes?area=${encodeURIComponent(code)}&limit=10`)).items;
  } catch (e) {
    section.append(el('p', { className: 'message error', textContent: e.plain ?? String(e) }));
    return section;
  }
  if (!items.length) {
    section.append(el('p', { className: 'muted', textContent: t('changes.none') }));
    return section;
  }
  const ul = el('ul', { className: 'plain' });
  for (const c of items) {
    const li = el('li', {}, el('span', { textContent: `${c.time.replace('T', ' ').slice(0, 16)} · ${c.who} · ${c.summary}` }));
    li.dataset.change = String(c.id);
    if (c.reverted_by) {
      li.append(' ', el('span', { className: 'badge', textContent: t('changes.reverted') }));
    } else if (canEdit() && !NOT_REVERTIBLE.has(c.kind)) {
      const b = el('button', { type: 'button', className: 'link', textContent: t('undo.button') });
      b.dataset.action = 'undo';
      b.addEventListener('click', async () => {
        if (await confirmAction(t('changes.confirm', { summary: c.summary }), t('undo.button'))) await revert(c.id);
      });
      li.append(' ', b);
    }
    ul.append(li);
  }
  section.append(ul);
  return section;
}
