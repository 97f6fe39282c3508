// The instructors' field page (GET /field): sign in from the link, list the organizations,
// record visits and ledger corrections through the outbox, which sends them now or when the
// phone is back online. The service worker only makes the page itself open offline; nothing
// else depends on it.
import { ApiError, clearToken, get, setToken, token } from './api.js';
import { CACHE, Db, MemoryDb } from './idb.js';
import { OrgList } from './org-list.js';
import { Outbox } from './outbox.js';
import { Problems } from './problems.js';
import { Records } from './records.js';
import { state } from './state.js';
import { say } from './status.js';
import { VisitSheet } from './visit-sheet.js';
import { watchPosition } from './where.js';

const $ = (id) => document.getElementById(id);
const RETRY_MS = 30000;  // a visit held back by a busy server is tried again this often
const ROLE_NAMES = { viewer: '查看账号', planner: '规划账号', admin: '管理员账号', instructor: '指导员账号' };

async function openDb() {
  try {
    return await Db.open();
  } catch {
    say('这台手机的浏览器不能在本机保存记录：离线时记录的走访会在关闭页面后丢失。', { error: true });
    return new MemoryDb();
  }
}

/** A sign-in link (covermap token add … --link) carries the token in the fragment, which is
 *  never sent to a server; it is kept and dropped from the address bar and the history. */
function takeLinkedToken() {
  const linked = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!linked) return;
  setToken(linked);
  history.replaceState(null, '', location.pathname + location.search);
}

function askToken(error) {
  $('sign-in').hidden = false;
  $('sign-in-error').hidden = !error;
  $('sign-in-error').textContent = error ?? '';
  return new Promise((resolve) => {
    $('sign-in-form').addEventListener('submit', (e) => {
      e.preventDefault();
      resolve($('token').value.trim());
    }, { once: true });
  });
}

const online = () => new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));

/** Who is signed in: GET /api/me, or offline the answer kept from the last time this token
 *  signed in on this phone. */
async function signIn(db) {
  takeLinkedToken();
  let error = null;
  for (;;) {
    if (!token()) setToken(await askToken(error));
    const mark = token().slice(-8);
    try {
      if (!navigator.onLine) throw new ApiError(0, 'Offline', 'offline');  // no request bound to fail
      const me = await get('/api/me');
      await db.put(CACHE, { key: 'me', mark, me });
      $('sign-in').hidden = true;
      return me;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 401) { clearToken(); error = '令牌无效或已失效，请向管理员确认。'; continue; }
      if (!e.transient) throw e;
      const kept = await db.get(CACHE, 'me');
      if (kept?.mark === mark) { $('sign-in').hidden = true; return kept.me; }
      say('首次登录需要联网。联网后会自动继续。', { error: true });
      await online();
    }
  }
}

function showHeader(me) {
  $('who').textContent = `指导员 ${me.instructor_name ?? me.name}`;
  const dueLine = () => {
    const orgs = state.get('orgs');
    if (!orgs) return;
    $('due').textContent = `本季度待核实 ${orgs.filter((o) => o.ledger_due).length} / ${orgs.length}`;
    $('due').hidden = false;
  };
  const syncLine = () => {
    const n = state.get('pending').length;
    const off = !state.get('online');
    $('pending').textContent = n ? `待同步 ${n} 条` : '全部已同步';
    $('pending').dataset.count = String(n);
    $('pending').classList.toggle('has', n > 0);
    $('offline').hidden = !off;
    $('retry').hidden = n === 0;
    $('sync').hidden = n === 0 && !off;
  };
  state.on('orgs', dueLine);
  state.on('pending', syncLine);
  state.on('online', syncLine);
  dueLine();
  syncLine();
}

/** The list: the stored copy at once, then the server's when it answers; resolves once every
 *  record of it has been read for offline use too. */
async function loadList(records) {
  const kept = await records.storedList();
  if (kept) { state.set('listAge', kept.at); state.set('orgs', kept.items); }
  if (!navigator.onLine) return;
  try {
    const fresh = await records.fetchList();
    state.set('listAge', fresh.at);
    state.set('orgs', fresh.items);
    await records.prefetch(fresh.items.map((o) => o.id));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (!kept || !e.transient) say(`读取组织名单失败：${e.plain}`, { error: true });
  }
}

/** The phone's back button closes the sheet rather than leaving the page. */
function wireHistory() {
  if (history.state?.org) history.replaceState(null, '', location.pathname);  // a reload inside a sheet
  state.on('org', (id) => {
    if (id && history.state?.org !== id) history.pushState({ org: id }, '', location.pathname);
    if (!id && history.state?.org) history.back();
    $('list-view').hidden = !!id;
    document.body.classList.toggle('sheet-open', !!id);
    if (!id) requestAnimationFrame(() => document.querySelector(`#orgs button[data-org="${CSS.escape(state.get('lastOrg') ?? '')}"]`)?.focus({ preventScroll: false }));
    else state.set('lastOrg', id);
  });
  window.addEventListener('popstate', () => state.set('org', history.state?.org ?? null));
}

function wireOutbox(outbox, records) {
  const refresh = async () => {
    state.set('pending', await outbox.items());
    state.set('problems', await outbox.problems());
  };
  outbox.addEventListener('change', refresh);
  let reread = null;
  outbox.addEventListener('delivered', ({ detail: { item } }) => {
    say(`已提交：${item.org_name}，${item.body.kind}${item.body.ledger ? '并修改台账' : ''}。`);
    // The list's due marks and versions come from the server: read it again once the run settles.
    clearTimeout(reread);
    reread = setTimeout(() => loadList(records), 300);
  });
  outbox.addEventListener('problem', ({ detail }) => say(detail.message, { error: true }));
  outbox.addEventListener('stopped', ({ detail: e }) => {
    if (e.status === 401) say('登录已失效：记录仍保存在本机。请重新打开管理员发给您的登录链接后再同步。', { error: true });
    else if (e.status !== 0) say(`暂未同步：${e.plain}`, { error: true });
    else if (navigator.onLine) say('连不上服务器：记录仍保存在本机，稍后会自动重试。', { error: true });
  });
  // A failure of the phone's own storage (not an answer of the server): the visits stay queued.
  const sync = () => outbox.sync().catch(() => say('同步时本机出错，记录仍保存在本机；请刷新页面后重试。', { error: true }));
  window.addEventListener('online', () => { state.set('online', true); sync(); loadList(records); });
  window.addEventListener('offline', () => state.set('online', false));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible' && navigator.onLine) sync(); });
  setInterval(() => { if (navigator.onLine && state.get('pending').length) sync(); }, RETRY_MS);
  $('retry').addEventListener('click', () => {
    if (!navigator.onLine) { say('当前离线，联网后会自动同步。'); return; }
    say('正在同步…');
    sync();
  });
  return refresh().then(() => { sync(); });
}

/** Installable and offline where the browser allows a service worker (HTTPS, localhost);
 *  elsewhere the page simply works online, with the same queue. */
function registerWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  // Relative: beside the page, whatever prefix a proxy puts before it.
  navigator.serviceWorker.register('field-sw.js', { scope: 'field' })
    .then(() => { document.body.dataset.worker = 'registered'; })
    .catch(() => { document.body.dataset.worker = 'failed'; });
}

function wireSignOut(records) {
  $('foot').hidden = false;
  $('sign-out').addEventListener('click', async () => {
    const n = state.get('pending').length;
    if (n && !window.confirm(`还有 ${n} 条走访没有同步。退出后它们留在本机，下次用同一账号登录时再发送。确定退出吗？`)) return;
    await records?.forget();
    clearToken();
    location.replace('field');
  });
}

async function main() {
  registerWorker();
  const db = await openDb();
  const me = await signIn(db);
  if (!me.instructor_id) {
    $('who').textContent = ROLE_NAMES[me.role] ?? '';  // the token's name may be any text: the role instead
    $('not-instructor').hidden = false;
    wireSignOut(null);
    document.body.dataset.ready = 'true';
    return;
  }
  state.set('me', me);
  showHeader(me);
  const records = new Records(db, me.instructor_id);
  const outbox = new Outbox(db, me.instructor_id);
  new OrgList($('orgs'), $('list-note'));
  new Problems($('problems'), outbox);
  new VisitSheet($('sheet'), records, outbox);
  wireHistory();
  wireSignOut(records);
  $('list-view').hidden = false;
  await loadList(records);  // ready means: what is needed offline is on the phone
  await wireOutbox(outbox, records);
  watchPosition((here) => state.set('position', here), () => state.set('located', false));
  document.body.dataset.ready = 'true';
}

window.addEventListener('unhandledrejection', (e) => {
  const err = e.reason;
  say(err instanceof ApiError ? err.plain : '出错了，请刷新页面后重试。', { error: true });
});
main().catch((e) => say(e instanceof ApiError ? e.plain : '页面没能打开，请刷新后重试。', { error: true }));
