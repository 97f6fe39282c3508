// Draw and assign: a planner draws a rectangle or a polygon on the map; the server answers what
// it would assign there (a dry run: the selection counted by state, each candidate once, assigned
// or not, with the instructor and the distance), the map shows it as lines organization →
// instructor, and 确认指派 commits exactly that as one change, with 撤销 in the page's toast.
// 取消 clears it all. Viewers get no drawing tool.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { ApiError, request } from './api.js';
import { el } from './dom.js';
import { language, t } from './i18n.js';
import { canEdit, state } from './state.js';
import { toast } from './undo.js';

// Leaflet-Geoman draws the shapes (vertices, closing, the hint under the cursor, Esc). It ships
// only as a classic script that extends a global `L`; the page imports Leaflet as an ES module,
// whose namespace object is frozen, so geoman gets a plain copy of it as `globalThis.L` (the
// classes are the same objects, so its hooks reach the page's map) and is loaded by a <script>
// of our own origin, which the Content-Security-Policy (script-src 'self') allows. It is loaded
// on the first drawing only: viewers and planners who never draw do not pay for it.
const GEOMAN = '/web/vendor/leaflet-geoman-2.20.2';
const LIST_MAX = 200;  // rows listed; the map shows every line
const COLOR = { line: '#6a3d9a', assigned: '#6a3d9a', unassigned: '#d7301f', instructor: '#1d4ed8', shape: '#d97706' };

let geoman = null;
function loadGeoman() {
  geoman ??= new Promise((resolve, reject) => {
    globalThis.L = { ...L };
    const css = el('link', { rel: 'stylesheet', href: `${GEOMAN}/leaflet-geoman.css` });
    const script = el('script', { src: `${GEOMAN}/leaflet-geoman.min.js` });
    script.addEventListener('load', () => {
      // Only layers that ask for it get geoman's editing handles: the page's own layers stay as they are.
      globalThis.L.PM.setOptIn(true);
      resolve(globalThis.L.PM);
    });
    script.addEventListener('error', () => { geoman = null; reject(new Error(t('draw.loadError'))); });
    document.head.append(css, script);
  });
  return geoman;
}

const km = (m) => (m / 1000).toFixed(1);

/** A refusal in the planner's words: the server's own when it is in Chinese, else ours. */
function refusal(e) {
  if (!(e instanceof ApiError)) return String(e?.message ?? e);
  // A planner refused (403) is one limited to an area: the shape reaches beyond it.
  if (e.status === 403 && canEdit()) return t('assign.error', { why: t('assign.outOfArea') });
  const fallback = { 400: 'assign.badShape', 409: 'assign.conflict' }[e.status] ?? 'assign.failed';
  return t('assign.error', { why: e.plainOr(t(fallback)) });
}

export class DrawAssign {
  constructor(mapView) {
    this.mapView = mapView;
    this.map = mapView.map;
    // The dry run's lines and dots above the parks and the organizations' tiles.
    if (!this.map.getPane('tools')) this.map.createPane('tools').style.zIndex = 630;
    this.layer = L.layerGroup().addTo(this.map);
    this.shape = null;  // the shape drawn (geoman's layer)
    this.geometry = null;  // its GeoJSON geometry, sent again on commit
    if (!canEdit()) return;
    this.#tools();
  }

  /** Two buttons on the map and, beside them, the box of the selection. */
  #tools() {
    const control = L.control({ position: 'topleft' });
    control.onAdd = () => {
      this.rectButton = el('button', { type: 'button', className: 'draw-button', textContent: t('draw.rect') });
      this.rectButton.dataset.action = 'draw-rectangle';
      this.polyButton = el('button', { type: 'button', className: 'draw-button', textContent: t('draw.poly') });
      this.polyButton.dataset.action = 'draw-polygon';
      this.rectButton.addEventListener('click', () => this.draw('Rectangle'));
      this.polyButton.addEventListener('click', () => this.draw('Polygon'));
      this.box = el('section', { className: 'assign-box', hidden: true });
      this.box.setAttribute('aria-live', 'polite');
      const root = el('div', { className: 'draw-assign leaflet-bar' }, el('div', { className: 'draw-buttons' }, this.rectButton, this.polyButton), this.box);
      root.setAttribute('role', 'group');
      root.setAttribute('aria-label', t('draw.title'));
      // Clicks, scrolling and dragging in the box stay in the box (not a map click or zoom).
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      // Leaflet tells a click in the box from one on the map by the box around its target; 取消
      // empties the box, so its click would reach the map with no box around it and pick the
      // organization under the button (its card, the map zoomed to it): clicks in the box stop here.
      L.DomEvent.on(root, 'click', L.DomEvent.stopPropagation);
      return root;
    };
    control.addTo(this.map);
  }

  async draw(shape) {
    this.clear();
    let PM;
    try {
      PM = await loadGeoman();
    } catch (e) {
      return this.#message(e.message, true);
    }
    if (!this.map.pm) {
      this.map.pm = new PM.Map(this.map);
      this.map.pm.setGlobalOptions({ snappable: false, finishOnEnter: true });
      this.map.pm.setLang(language() === 'zh' ? 'zh' : 'en');
      this.map.on('pm:create', (e) => this.#drawn(e.layer));
      this.map.on('pm:drawend', () => {
        this.#pressed(null);
        this.map.getContainer().classList.remove('drawing');
        document.removeEventListener('keydown', this.escape);
      });
    }
    // While drawing, the parks and the page's own markers let clicks through to the map (a corner
    // inside a park is a corner, not the park's card).
    this.map.getContainer().classList.add('drawing');
    // Esc stops the drawing (geoman's own Esc needs its toolbar's focus rules; this is the page's).
    this.escape ??= (e) => { if (e.key === 'Escape' && this.map.pm?.globalDrawModeEnabled()) this.clear(); };
    document.addEventListener('keydown', this.escape);
    this.map.pm.enableDraw(shape, {
      snappable: false, tooltips: true, continueDrawing: false,
      pathOptions: { color: COLOR.shape, weight: 2, fillOpacity: 0.08, dashArray: '6 4', interactive: false },
      templineStyle: { color: COLOR.shape }, hintlineStyle: { color: COLOR.shape, dashArray: '4 4' },
    });
    this.#pressed(shape);
    const cancel = el('button', { type: 'button', className: 'secondary', textContent: t('draw.cancel') });
    cancel.dataset.action = 'draw-cancel';
    cancel.addEventListener('click', () => this.clear());
    const actions = [cancel];
    if (shape === 'Polygon') {
      const finish = el('button', { type: 'button', className: 'primary', textContent: t('draw.finish') });
      finish.dataset.action = 'draw-finish';
      // Geoman's own 完成 lives in its toolbar, which the page does not show.
      finish.addEventListener('click', () => this.map.pm.Draw.Polygon._finishShape());
      actions.push(finish);
    }
    // Only a touch screen (no mouse, so no keyboard to press Esc on): the hint without Esc.
    const touch = !matchMedia('(any-pointer: fine)').matches;
    const hint = `${shape === 'Polygon' ? 'draw.hintPoly' : 'draw.hintRect'}${touch ? 'Touch' : ''}`;
    this.#show(el('p', { textContent: t(hint) }), el('div', { className: 'actions' }, ...actions));
  }

  /** Which tool is on (aria-pressed), none once the drawing ends. */
  #pressed(shape) {
    this.rectButton?.setAttribute('aria-pressed', String(shape === 'Rectangle'));
    this.polyButton?.setAttribute('aria-pressed', String(shape === 'Polygon'));
  }

  async #drawn(layer) {
    this.shape = layer;
    layer.addTo(this.layer);
    this.geometry = layer.toGeoJSON().geometry;
    this.#show(el('p', { className: 'loading', textContent: t('assign.loading') }));
    let data;
    try {
      ({ data } = await request('POST', '/api/assign', { body: { polygon: this.geometry, dry_run: true } }));
    } catch (e) {
      if (this.shape !== layer) return;
      return this.#message(refusal(e), true);
    }
    if (this.shape !== layer) return;  // cleared or drawn again meanwhile
    this.#preview(data);
  }

  /** The dry run: the selection by state, the lines on the map, the list, 确认指派 and 取消. */
  #preview(data) {
    this.#lines(data);
    const s = data.selection ?? {};
    const parts = [el('h3', { textContent: t('assign.title') }),
      el('p', { className: 'selection', textContent: t('assign.selection', { total: s.total ?? 0, uncovered: s.uncovered ?? 0, instructor: s.instructor ?? 0, branch: s.branch ?? 0, inactive: s.inactive ?? 0 }) })];
    const n = data.assignments.length;
    if (!n && !data.unassigned.length) parts.push(el('p', { className: 'muted', textContent: t('assign.none') }));
    else parts.push(el('p', { className: 'summary', textContent: t('assign.plan', { n, km: km(data.total_m ?? 0), u: data.unassigned.length }) }));
    const list = el('ul', { className: 'plain assign-list' });
    for (const a of data.assignments.slice(0, LIST_MAX)) {
      const li = el('li', { textContent: t('assign.row', { org: a.org_name, name: a.instructor_name, km: km(a.distance_m) }) });
      li.dataset.org = a.org;
      li.dataset.instructor = a.instructor;
      list.append(li);
    }
    for (const u of data.unassigned.slice(0, Math.max(0, LIST_MAX - n))) {
      const li = el('li', { className: 'unassigned' }, el('span', { textContent: u.org_name }), el('small', { className: 'reason', textContent: u.reason }));
      li.dataset.org = u.org;
      list.append(li);
    }
    const listed = list.children.length, all = n + data.unassigned.length;
    if (listed) parts.push(list);
    if (listed < all) parts.push(el('p', { className: 'muted', textContent: t('assign.more', { n: all - listed }) }));
    const cancel = el('button', { type: 'button', className: 'secondary', textContent: t('assign.cancel') });
    cancel.dataset.action = 'assign-cancel';
    cancel.addEventListener('click', () => this.clear());
    const commit = el('button', { type: 'button', className: 'primary', textContent: t('assign.commit'), disabled: !n });
    commit.dataset.action = 'assign-commit';
    commit.addEventListener('click', () => this.#commit(commit));
    this.result = el('p', { className: 'message error', hidden: true });
    this.result.setAttribute('role', 'alert');
    parts.push(this.result, el('div', { className: 'actions' }, cancel, commit));
    this.#show(...parts);
  }

  /** Lines organization → instructor, the organizations (red: none could take it) and the instructors. */
  #lines(data) {
    const keep = this.shape;
    this.layer.clearLayers();
    if (keep) keep.addTo(this.layer);
    const instructors = new Map();
    for (const a of data.assignments) {
      L.polyline([[a.lat, a.lon], [a.instructor_lat, a.instructor_lon]], { pane: 'tools', className: 'assign-line', color: COLOR.line, weight: 2, dashArray: '5 4', interactive: false }).addTo(this.layer);
      L.circleMarker([a.lat, a.lon], { pane: 'tools', className: 'assign-org', radius: 4, color: COLOR.assigned, weight: 1, fillOpacity: 0.9 })
        .bindTooltip(document.createTextNode(`${a.org_name} → ${a.instructor_name}`)).addTo(this.layer);
      instructors.set(a.instructor, a);
    }
    for (const a of instructors.values())
      L.circleMarker([a.instructor_lat, a.instructor_lon], { pane: 'tools', className: 'assign-instructor', radius: 7, color: '#fff', weight: 2, fillColor: COLOR.instructor, fillOpacity: 1 })
        .bindTooltip(document.createTextNode(a.instructor_name)).addTo(this.layer);
    for (const u of data.unassigned)
      L.circleMarker([u.lat, u.lon], { pane: 'tools', className: 'assign-unassigned', radius: 5, color: COLOR.unassigned, weight: 2, fillOpacity: 0.3 })
        .bindTooltip(document.createTextNode(`${u.org_name}：${u.reason}`)).addTo(this.layer);
  }

  async #commit(button) {
    button.disabled = true;
    this.result.hidden = true;
    let data;
    try {
      ({ data } = await request('POST', '/api/assign', { body: { polygon: this.geometry, dry_run: false } }));
    } catch (e) {
      button.disabled = false;
      this.result.textContent = refusal(e);
      this.result.hidden = false;
      return;
    }
    this.clear();
    state.changed();
    const n = data.assignments?.length ?? 0;
    toast(t('assign.done', { n }), { changeId: data.change_id ?? null });
  }

  /** Takes the drawing, the lines and the box away; stops a drawing under way. */
  clear() {
    if (this.map.pm?.globalDrawModeEnabled()) this.map.pm.disableDraw();
    this.map.getContainer().classList.remove('drawing');
    if (this.escape) document.removeEventListener('keydown', this.escape);
    this.#pressed(null);
    this.shape = null;
    this.geometry = null;
    this.layer.clearLayers();
    if (this.box) { this.box.hidden = true; this.box.replaceChildren(); }
  }

  #message(text, error = false) {
    const p = el('p', { className: error ? 'message error' : 'muted', textContent: text });
    if (error) p.setAttribute('role', 'alert');
    const close = el('button', { type: 'button', className: 'secondary', textContent: t('assign.cancel') });
    close.addEventListener('click', () => this.clear());
    this.#show(p, el('div', { className: 'actions' }, close));
  }

  #show(...parts) {
    this.box.replaceChildren(...parts);
    this.box.hidden = false;
  }
}
