// The page: sign in (token in localStorage, exchanged for an HttpOnly session cookie that
// tiles and downloads use), then the map, the coverage panel, the organization card, plans
// and export, all following the shared state.
import { ApiError, writesInFlight, clearToken, get, request, setToken, token } from './api.js';
import { DrawAssign } from './draw-assign.js';
import { ExportDialog } from './export-dialog.js';
import { ImportPanel } from './import-panel.js';
import { language, setLanguage, t, translate } from './i18n.js';
import { MapView } from './map.js';
import { OrgCard } from './org-card.js';
import { ParkPanel } from './park-panel.js';
import { Plans } from './plans.js';
import { ReportPanel } from './report-panel.js';
import { SitesPanel } from './sites-panel.js';
import { state } from './state.js';
import { toast } from './undo.js';
import { WorkloadPanel } from './workload-panel.js';

const $ = (id) => document.getElementById(id);


function showTab(name) {
  for (const b of document.querySelectorAll('.tabs [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${name}`;
  state.set('tab', name);
}

async function signIn() {
  // The cookie stands for the token on reads (tile images cannot send a header).
  const { data } = await request('POST', '/api/session');
  state.set('name', data.name);
  state.set('role', data.role);
  state.set('basemap', data.basemap);
  state.set('basemapAttribution', data.basemap_attribution ?? null);
  state.set('scope', data.area);
  $('who').textContent = `${data.name} · ${t(`role.${data.role}`)}${data.area ? t('role.area', { area: data.area_name ?? data.area }) : ''}`;
  $('sign-out').hidden = false;
}

function askToken(error) {
  const dialog = $('sign-in');
  $('sign-in-error').hidden = !error;
  $('sign-in-error').textContent = error ?? '';
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve) => {
    $('sign-in-form').addEventListener('submit', (e) => {
      e.preventDefault();
      resolve($('token').value.trim());
    }, { once: true });
  });
}

async function ensureSignedIn() {
  // A sign-in link (covermap token add … --link) carries the token in the fragment, which is
  // never sent to a server; it is kept and dropped from the address bar.
  const linked = new URLSearchParams(location.hash.slice(1)).get('token');
  if (linked) {
    setToken(linked);
    history.replaceState(null, '', location.pathname + location.search);
  }
  let error = null;
  for (;;) {
    if (!token()) setToken(await askToken(error));
    try {
      await signIn();
      if ($('sign-in').open) $('sign-in').close();
      return;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      clearToken();
      error = t('signin.bad');
    }
  }
}

function wireSearch(mapView) {
  const input = $('search');
  const list = $('search-results');
  let seq = 0;
  const choose = (fn) => { list.hidden = true; input.value = ''; fn(); };
  input.addEventListener('input', async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (q.length < 1) { list.hidden = true; return; }
    const [orgs, areas] = await Promise.all([get(`/api/orgs?q=${encodeURIComponent(q)}&limit=8`), get(`/api/areas?q=${encodeURIComponent(q)}&limit=5`)]);
    if (mine !== seq) return;
    list.replaceChildren();
    for (const a of areas.items) {
      const li = document.createElement('li');
      li.setAttribute('role', 'option');
      li.tabIndex = 0;
      li.dataset.area = a.code;
      li.append(a.name);
      const s = document.createElement('small');
      s.textContent = `${t(`level.${a.level}`)} ${a.code}`;
      li.append(s);
      const go = () => choose(() => { showTab('coverage'); state.set('areaRequest', a.code); });
      li.addEventListener('click', go);
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
      list.append(li);
    }
    for (const o of orgs.items) {
      const li = document.createElement('li');
      li.setAttribute('role', 'option');
      li.tabIndex = 0;
      li.dataset.org = o.id;
      li.append(o.name);
      const s = document.createElement('small');
      s.textContent = `${t(`state.${o.state}`)} ${o.credit_code}`;
      li.append(s);
      const go = () => choose(() => state.set('org', o.id));
      li.addEventListener('click', go);
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
      list.append(li);
    }
    if (!list.children.length) {
      const li = document.createElement('li');
      li.textContent = t('search.none');
      list.append(li);
    }
    list.hidden = false;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !list.hidden) list.querySelector('li')?.focus();
    if (e.key === 'Escape') list.hidden = true;
  });
}

async function main() {
  translate(document);
  $('lang').addEventListener('click', () => { setLanguage(language() === 'zh' ? 'en' : 'zh'); location.reload(); });
  await ensureSignedIn();

  // On a phone the legend folds away: the map first, the legend one tap away.
  if (matchMedia('(max-width: 820px)').matches) $('layers-box').open = false;
  const mapView = new MapView($('map'), $('map-status'), $('layers'), $('legend'));
  const panel = new ParkPanel($('tab-coverage'), mapView);
  new OrgCard($('tab-org'), mapView, showTab);
  const plans = new Plans($('tab-plans'), mapView);
  state.on('tab', (name) => plans.visible(name === 'plans'));
  const exporter = new ExportDialog($('export-form'));
  // The administrator also imports the registry's list there: the tab says both.
  const importer = new ImportPanel($('import-orgs'));
  if (state.get('role') === 'admin') document.querySelector('.tabs [data-tab=export]').textContent = t('tab.transfer');
  const reports = new ReportPanel($('tab-report'));
  const sites = new SitesPanel($('tab-sites'));
  const workload = new WorkloadPanel($('tab-instructors'), mapView);
  new DrawAssign(mapView);

  const pressLevel = () => {
    for (const b of document.querySelectorAll('.levels button')) b.setAttribute('aria-pressed', String(b.dataset.level === state.get('level')));
  };
  for (const b of document.querySelectorAll('.levels button')) b.addEventListener('click', () => state.set('level', b.dataset.level));
  state.on('level', pressLevel);
  pressLevel();
  for (const b of document.querySelectorAll('.tabs [role=tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('sign-out').addEventListener('click', async () => {
    await request('DELETE', '/api/session').catch(() => {});
    clearToken();
    location.reload();
  });
  wireSearch(mapView);
  await Promise.all([mapView.start(), panel.load(), plans.load(), exporter.load(), importer.load(), reports.load(), sites.load(), workload.load()]);
  listen();
  document.body.dataset.ready = 'true';
}

/** Changes made elsewhere (another tab, a colleague, another server process) arrive as events:
 *  the tiles, the panel and an open card are read again, with no reload. One stream per page;
 *  the browser reconnects it by itself. */
function listen() {
  const source = new EventSource('/api/events');
  source.addEventListener('change', (e) => {
    let data = {};
    try { data = JSON.parse(e.data); } catch { /* an event we cannot read still means a change */ }
    // This page's own edit is already shown; its event can come before the edit's answer, so
    // the check waits until no edit of this page is on its way.
    const settle = () => {
      if (writesInFlight()) return setTimeout(settle, 100);
      if (!(data.change_id && state.isMine(data.change_id))) state.changed(data.bbox ? { bbox: data.bbox, areas: data.areas } : null);
    };
    settle();
  });
}

window.addEventListener('unhandledrejection', (e) => {
  const err = e.reason;
  toast(err instanceof ApiError ? err.plain : String(err?.message ?? err), { error: true });
});
main().catch((e) => toast(e instanceof ApiError ? e.plain : String(e?.message ?? e), { error: true }));
