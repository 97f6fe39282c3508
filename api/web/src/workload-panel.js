// 指导员: each instructor's load against their capacity in the area picked (the page's selected
// area, else the whole city): a table sorted by load, a bar chart of the most loaded, and on a
// click the instructor's organizations on the map, the map fitted to them and listed by name.
import * as echarts from '../vendor/echarts-6.1.0/echarts.esm.min.mjs';
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { ApiError, get, seg } from './api.js';
import { el } from './dom.js';
import { language, t } from './i18n.js';
import { state } from './state.js';

const CHART_MAX = 15;  // bars: the most loaded instructors
const FIRST_ROWS = 100;  // table rows before 显示全部 (a city has hundreds of instructors)
const COLOR = { capacity: '#d0d5db', load: '#8b1a1a', over: '#d97706', line: '#1d4ed8' };
const STATE_COLOR = { instructor: '#1d4ed8', branch: '#1a9641', uncovered: '#d7301f', inactive: '#888' };

const km = (m) => (m / 1000).toFixed(1);
const ratio = (i) => (i.capacity > 0 ? i.load / i.capacity : i.load > 0 ? Infinity : 0);
/** Most loaded first (load ÷ capacity); equals keep the server's order (by id). */
const byLoad = (a, b) => (ratio(b) - ratio(a)) || 0;

export class WorkloadPanel {
  constructor(root, mapView) {
    this.root = root;
    this.mapView = mapView;
    this.layer = L.layerGroup();
    if (!mapView.map.getPane('tools')) mapView.map.createPane('tools').style.zIndex = 630;  // above the parks and tiles
    this.stale = true;
    this.seq = 0;
    this.picked = null;
    // The area the page has selected (the coverage panel's area card); a change of data or of
    // area is read now if the tab is shown, else when it is next shown.
    const again = () => { this.stale = true; if (this.#shown()) this.refresh(); };
    state.on('area', again);
    state.on('tileVersion', again);
    state.on('tab', (name) => {
      if (name !== 'instructors') { this.layer.remove(); return; }
      if (this.picked) this.layer.addTo(this.mapView.map);
      if (this.stale) this.refresh(); else this.chart?.resize();
    });
  }

  #shown() { return state.get('tab') === 'instructors' && !this.root.hidden; }

  /** The area the figures are for: the area picked on the page, else the account's own, else none (the city). */
  #area() { return state.get('area') ?? state.get('scope') ?? null; }

  async load() {
    this.title = el('h2');
    this.whole = el('button', { type: 'button', className: 'linkish', textContent: t('work.whole'), hidden: true });
    this.whole.dataset.action = 'whole-city';
    this.whole.addEventListener('click', () => state.set('area', null));
    this.status = el('p', { className: 'message error', hidden: true });
    this.status.setAttribute('role', 'alert');
    this.chartTitle = el('h3');
    this.chartBox = el('div', { className: 'chart workload-chart' });
    this.table = el('table', { className: 'workload' });
    const head = this.table.createTHead().insertRow();
    for (const [key, num] of [['name'], ['unit'], ['load', true], ['distance', true], ['visits', true]])
      head.append(el('th', { className: num ? 'num' : '', textContent: t(`work.col.${key}`), scope: 'col' }));
    this.table.append(el('tbody'));
    this.more = el('button', { type: 'button', className: 'linkish more', hidden: true });
    this.more.dataset.action = 'show-all-instructors';
    this.more.addEventListener('click', () => { this.showAll = true; this.#rows(); if (this.picked) this.pick(this.picked, false); });
    this.root.replaceChildren(el('div', { className: 'list-head' }, this.title, this.whole), this.status,
      el('p', { className: 'muted', textContent: t('work.note') }), this.chartTitle, this.chartBox, this.table, this.more);
    this.root.classList.add('workload-panel');
    if (this.#shown()) await this.refresh();
  }

  async refresh() {
    if (!this.table) return;
    const mine = ++this.seq;
    this.stale = false;
    const area = this.#area();
    this.root.setAttribute('aria-busy', 'true');
    let data, name;
    try {
      [data, name] = await Promise.all([get(`/api/instructors${area ? `?area=${encodeURIComponent(area)}` : ''}`),
        area ? get(`/api/areas/${seg(area)}?limit=1`).then((a) => a.name, () => area) : t('work.city')]);
    } catch (e) {
      if (mine !== this.seq) return;
      this.stale = true;
      this.status.textContent = t('work.loadError', { why: e instanceof ApiError ? e.plainOr(t('work.failed')) : String(e?.message ?? e) });
      this.status.hidden = false;
      this.root.setAttribute('aria-busy', 'false');
      return;
    }
    if (mine !== this.seq) return;  // asked again meanwhile
    this.status.hidden = true;
    if (area !== this.area) this.showAll = false;
    this.area = area;
    this.items = [...data.items].sort(byLoad);
    this.title.textContent = t('work.title', { area: name, n: this.items.length });
    this.whole.hidden = !state.get('area');
    this.#rows();
    this.#chart();
    // The instructor picked stays picked while still listed (their organizations read again).
    const still = this.picked && this.items.find((i) => i.id === this.picked);
    if (still) await this.pick(still.id, false); else this.#unpick();
    if (mine === this.seq) this.root.setAttribute('aria-busy', 'false');
  }

  #rows() {
    const body = el('tbody');
    if (!this.items.length) {
      const tr = body.insertRow();
      tr.append(el('td', { colSpan: 5, className: 'muted', textContent: t('work.none') }));
    }
    const shown = this.showAll ? this.items : this.items.slice(0, FIRST_ROWS);
    for (const i of shown) {
      const tr = body.insertRow();
      tr.dataset.instructor = i.id;
      tr.tabIndex = 0;
      tr.append(el('td', { className: 'name', textContent: i.name }), el('td', { className: 'unit', textContent: i.unit_name || i.unit || '—' }));
      const load = el('td', { className: 'num load', textContent: `${i.load}/${i.capacity}` });
      if (i.load > i.capacity) { load.classList.add('over'); load.title = t('work.over'); }
      tr.append(load, el('td', { className: 'num distance', textContent: km(i.distance_m ?? 0) }),
        el('td', { className: 'num visits', textContent: i.visits_quarter ?? '—' }));
      tr.addEventListener('click', () => this.pick(i.id));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.pick(i.id); });
    }
    this.table.tBodies[0].replaceWith(body);
    this.more.hidden = shown.length === this.items.length;
    this.more.textContent = t('work.showAll', { n: this.items.length });
  }

  /** Load against capacity of the most loaded: capacity in grey behind, load over it (orange past it). */
  #chart() {
    const rows = this.items.slice(0, CHART_MAX);
    this.chartRows = rows;
    this.chartTitle.textContent = t('work.chart', { n: rows.length });
    this.chartTitle.hidden = this.chartBox.hidden = !rows.length;
    if (!rows.length) return;
    this.chartBox.style.height = `${Math.max(140, rows.length * 20 + 46)}px`;
    this.chart = echarts.getInstanceByDom(this.chartBox)
      ?? echarts.init(this.chartBox, null, { renderer: 'canvas', locale: language() === 'zh' ? 'ZH' : 'EN' });
    this.chart.setOption({
      grid: { left: 8, right: 48, top: 24, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { fontSize: 11 }, data: [t('work.series.capacity'), t('work.series.load')] },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, renderMode: 'richText' },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name), axisLabel: { width: 90, overflow: 'truncate', fontSize: 11 } },
      series: [
        { name: t('work.series.capacity'), type: 'bar', barWidth: 12, barGap: '-100%', itemStyle: { color: COLOR.capacity }, data: rows.map((r) => r.capacity) },
        { name: t('work.series.load'), type: 'bar', barWidth: 12, z: 3, itemStyle: { color: COLOR.load },
          data: rows.map((r) => (r.load > r.capacity ? { value: r.load, itemStyle: { color: COLOR.over } } : { value: r.load })),
          label: { show: true, position: 'right', fontSize: 11, formatter: (p) => `${rows[p.dataIndex].load}/${rows[p.dataIndex].capacity}` } },
      ],
      aria: { enabled: true },
    }, true);
    if (!this.chartWired) {
      this.chartWired = true;
      this.chart.on('click', (p) => { const r = this.chartRows[p.dataIndex]; if (r) this.pick(r.id); });
      new ResizeObserver(() => this.chart.resize()).observe(this.chartBox);
    }
  }

  /** An instructor's organizations: on the map (lines from their home), the map fitted to them,
   *  and by name under their row. `fit`: move the map (not when the list is only read again). */
  async pick(id, fit = true) {
    const i = this.items?.find((x) => x.id === id);
    if (!i) return;
    this.picked = id;
    for (const tr of this.table.tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.instructor === id);
    let orgs;
    try {
      orgs = (await get(`/api/orgs?instructor=${encodeURIComponent(id)}&limit=500`)).items;
    } catch (e) {
      this.#detail(i, el('p', { className: 'message error', textContent: t('work.orgsError', { why: e instanceof ApiError ? e.plainOr(t('work.failed')) : String(e?.message ?? e) }) }));
      return;
    }
    if (this.picked !== id) return;
    this.layer.clearLayers();
    const home = Number.isFinite(i.lat) && Number.isFinite(i.lon) ? [i.lat, i.lon] : null;
    const points = [];
    for (const o of orgs) {
      const at = [o.lat, o.lon];
      points.push(at);
      if (home) L.polyline([home, at], { pane: 'tools', className: 'workload-line', color: COLOR.line, weight: 1.5, opacity: 0.6, interactive: false }).addTo(this.layer);
      L.circleMarker(at, { pane: 'tools', className: 'workload-org', radius: 6, color: '#fff', weight: 1.5, fillColor: STATE_COLOR[o.state] ?? COLOR.line, fillOpacity: 1 })
        .bindTooltip(document.createTextNode(o.name)).on('click', () => state.set('org', o.id)).addTo(this.layer);
    }
    if (home) {
      points.push(home);
      L.circleMarker(home, { pane: 'tools', className: 'workload-home', radius: 8, color: '#fff', weight: 2, fillColor: COLOR.load, fillOpacity: 1 })
        .bindTooltip(document.createTextNode([i.name, i.unit_name || i.unit].filter(Boolean).join(' · '))).addTo(this.layer);
    }
    if (this.#shown()) this.layer.addTo(this.mapView.map);
    if (fit && points.length) {
      this.mapView.map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 14 });
      // On a phone the map is above the panel: bring it into view.
      if (matchMedia('(max-width: 820px)').matches) this.mapView.map.getContainer().scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
    const list = el('ul', { className: 'plain workload-orgs' });
    for (const o of orgs) {
      const b = el('button', { type: 'button', className: 'linkish', textContent: o.name });
      b.addEventListener('click', () => state.set('org', o.id));
      const li = el('li', {}, b, ' ', el('small', { className: 'muted', textContent: t(`state.${o.state}`) }));
      li.dataset.org = o.id;
      list.append(li);
    }
    this.#detail(i, el('p', { className: 'detail-title', textContent: t('work.orgs', { name: i.name, n: orgs.length }) }),
      orgs.length ? list : el('p', { className: 'muted', textContent: t('work.noOrgs') }));
  }

  /** The row under the instructor's: what a click on it showed. */
  #detail(i, ...parts) {
    this.table.querySelector('tr.detail')?.remove();
    const row = [...this.table.tBodies[0].rows].find((tr) => tr.dataset.instructor === i.id);
    if (!row) return;
    const tr = el('tr', { className: 'detail' });
    tr.dataset.detail = i.id;
    tr.append(el('td', { colSpan: 5 }, ...parts));
    row.after(tr);
  }

  #unpick() {
    this.picked = null;
    this.layer.clearLayers();
    this.layer.remove();
  }
}
