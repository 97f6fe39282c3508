// The map: covermap's own tiles (coverage choropleth of the current level, heatmap,
// organizations, assignments) over the districts' outlines, a legend read from TileJSON, a
// scale bar, and a click that selects the nearest organization.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { get, seg } from './api.js';
import { language, t } from './i18n.js';
import { state } from './state.js';

const OVERLAYS = ['heatmap', 'orgs', 'assignments', 'ledger-due'];

// After a jump of several zooms (a row clicked at z9 opens z13) Leaflet keeps the old zoom's
// tiles, enlarged up to 16 times, until the new ones arrive: only the zoom just above is kept
// (a normal zoom step stays smooth); beyond it the status line says the map is loading.
const TileLayer = L.TileLayer.extend({
  // Leaflet's _retainParent(x, y, z) keeps the parent at z - 1, then recurses upwards: only
  // the call for the current zoom may keep one (its parent is the zoom just above).
  _retainParent(x, y, z, minZoom) {
    return z >= this._tileZoom && L.TileLayer.prototype._retainParent.call(this, x, y, z, minZoom);
  },
  /** A new URL for the tiles to come; of the tiles on screen only those reaching into `box`
   *  (a tile padded by a quarter, 64 px: a symbol or a cluster circle crosses its edge) load
   *  again. Without a box, all of them. */
  refreshWithin(url, box) {
    if (!box) return this.setUrl(url);
    this.setUrl(url, true);
    for (const tile of Object.values(this._tiles)) {
      if (this._tileCoordsToBounds(tile.coords).pad(0.25).intersects(box)) tile.el.src = this.getTileUrl(tile.coords);
    }
    return this;
  },
});

// Leaflet's scale bar says "m" and "km": the page's language says it (米, 公里).
const Scale = L.Control.Scale.extend({
  _updateMetric(maxMeters) {
    const meters = this._getRoundNum(maxMeters);
    const label = meters < 1000 ? `${meters} ${t('unit.m')}` : `${meters / 1000} ${t('unit.km')}`;
    this._updateScale(this._mScale, label, meters / maxMeters);
  },
});

// TileJSON legends speak English; the page shows them in its language.
function legendLabel(entry) {
  return (language() === 'zh' && entry.label_zh) || entry.label;
}

export class MapView {
  constructor(element, status, layersForm, legend) {
    this.status = status;
    this.form = layersForm;
    this.legend = legend;
    this.map = L.map(element, { zoomControl: false, minZoom: 6, maxZoom: 18, attributionControl: true });
    this.map.attributionControl.setPrefix(false);
    L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(this.map);
    new Scale({ imperial: false }).addTo(this.map);
    this.map.createPane('highlight').style.zIndex = 640;
    this.map.createPane('parks').style.zIndex = 450;  // above the tiles and clusters, below the markers
    this.map.createPane('base').style.zIndex = 150;  // under the tile pane (200): tiles draw over it
    this.highlight = L.layerGroup().addTo(this.map);
    this.planLayer = L.layerGroup().addTo(this.map);
    this.pending = 0;
    this.failed = 0;
    this.tileLayers = {};
    // While a shape is being drawn (draw-assign.js), a click places a corner, not a selection.
    this.map.on('click', (e) => { if (!this.map.pm?.globalDrawModeEnabled()) this.#pick(e.latlng); });
    this.form.addEventListener('change', () => this.#syncOverlays());
    this.form.addEventListener('input', (e) => { if (e.target.name === 'opacity') this.#syncOpacity(); });
    state.on('level', () => this.#setCoverage());
    state.on('tileVersion', () => this.#refreshTiles());
  }

  async start() {
    this.#showStatus(t('map.loading'));
    const tj = await get('/tiles/coverage-street.json');
    const [minx, miny, maxx, maxy] = tj.bounds;
    if (!this.#fromHash()) this.map.fitBounds([[miny, minx], [maxy, maxx]]);
    // The source as the page's language says it (the TileJSON's text is in English).
    this.map.attributionControl.addAttribution(tj.attribution ? t('map.attribution') : '');
    this.map.on('moveend', () => this.#toHash());
    this.form.addEventListener('change', () => this.#toHash());
    state.on('level', () => this.#toHash());
    await this.#districts();
    this.#basemap();
    this.#setCoverage();
    this.#syncOverlays();
  }

  /** The districts' own borders and names: the base map, drawn from covermap's data (offline). */
  async #districts() {
    const list = await get('/api/areas?level=district&limit=100');
    const cards = await Promise.all(list.items.map((a) => get(`/api/areas/${seg(a.code)}?limit=1`)));
    const features = cards.map((c) => ({ type: 'Feature', properties: { name: c.name }, geometry: c.geometry }));
    // Where a change's coverage colours can move: the districts it touched (events name them).
    this.districtBounds = new Map(cards.map((c) => [c.code, L.geoJSON(c.geometry).getBounds()]));
    // Paper-coloured districts on their own; see-through while a deployment's base map is shown.
    this.paper = L.geoJSON(features, {
      pane: 'base',
      style: { color: '#555', weight: 2.5, fill: true, fillColor: '#f7f4ee', fillOpacity: 1 },
      interactive: false,
    }).addTo(this.map);
    // The names above the tiles, the outlines too (a district border reads over any fill).
    const names = L.geoJSON(features, { style: { color: '#444', weight: 2, fill: false }, interactive: false });
    // A text node, never HTML: an area's name comes from an imported file.
    names.eachLayer((l) => l.bindTooltip(document.createTextNode(l.feature.properties.name),
      { permanent: true, direction: 'center', className: 'area-label' }));
    names.addTo(this.map);
    // Larger districts keep their names first when two would overlap.
    const size = (l) => { const b = l.getBounds(); return (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth()); };
    this.labels = names.getLayers().sort((a, b) => size(b) - size(a));
    this.#declutter();
    this.map.on('zoomend', () => this.#declutter());
  }

  /** A deployment's own base map (serve --basemap: a URL template, or covermap's /basemap/ for
   *  local tiles), in a pane of its own under everything covermap draws (the districts' fill at
   *  150, the coverage tiles at 200), its source in the attribution, and a switch (remembered
   *  in this browser). Without one nothing is fetched. */
  #basemap() {
    const url = state.get('basemap');
    if (!url) return;
    this.map.createPane('basemap').style.zIndex = 100;
    // Leaflet writes attributions as HTML: the configured text is escaped to stay text.
    const text = document.createElement('span');
    text.textContent = state.get('basemapAttribution') ?? '';
    const layer = L.tileLayer(url, { pane: 'basemap', maxZoom: 18, attribution: text.innerHTML, className: 'tiles-basemap' });
    const KEY = 'covermap.basemap';
    const show = (on) => this.paper?.setStyle({ fillOpacity: on ? 0 : 1 });
    this.map.on('overlayadd', (e) => { if (e.layer === layer) { show(true); localStorage.removeItem(KEY); } });
    this.map.on('overlayremove', (e) => { if (e.layer === layer) { show(false); localStorage.setItem(KEY, 'off'); } });
    const on = localStorage.getItem(KEY) !== 'off';
    if (on) layer.addTo(this.map);
    show(on);
    this.basemapSwitch = L.control.layers(null, { [t('map.externalBase')]: layer }, { position: 'bottomleft', collapsed: false }).addTo(this.map);
    this.basemapSwitch.getContainer().classList.add('basemap-switch');
  }

  /** Leaflet places permanent tooltips without looking at each other: a name that would
   *  overlap one already shown is hidden at this zoom (Mapnik does the same for the tiles' own
   *  labels; Leaflet has no collision pass, so these few lines do it). */
  #declutter() {
    // At the park level the tiles print each park's name at its middle (about 100 × 40 px, two
    // lines at most): those places are taken first, so no district name lands on a park's.
    const shown = [];
    const box = this.map.getContainer().getBoundingClientRect();
    this.parkLayer?.eachLayer((l) => {
      const c = this.map.latLngToContainerPoint(l.getBounds().getCenter());
      const [x, y] = [box.left + c.x, box.top + c.y];
      shown.push({ left: x - 50, right: x + 50, top: y - 20, bottom: y + 20 });
    });
    for (const layer of this.labels ?? []) {
      const label = layer.getTooltip()?.getElement();
      if (!label) continue;
      label.style.visibility = '';
      const r = label.getBoundingClientRect();
      const hit = shown.some((o) => r.left < o.right && o.left < r.right && r.top < o.bottom && o.top < r.bottom);
      if (hit) label.style.visibility = 'hidden';
      else shown.push(r);
    }
  }

  /** The view in the URL (#map=z/lat/lon&level=street&layers=heatmap,orgs): links can be shared. */
  #fromHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    const layers = h.get('layers');
    if (layers !== null) for (const name of OVERLAYS) this.form.elements[name].checked = layers.split(',').includes(name);
    if (h.get('level')) state.set('level', h.get('level'));
    const m = (h.get('map') ?? '').split('/').map(Number);
    if (m.length !== 3 || m.some((v) => !Number.isFinite(v))) return false;
    this.map.setView([m[1], m[2]], m[0]);
    return true;
  }

  #toHash() {
    const c = this.map.getCenter();
    const layers = OVERLAYS.filter((n) => this.form.elements[n].checked).join(',');
    history.replaceState(null, '', `#map=${this.map.getZoom()}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}&level=${state.get('level')}&layers=${layers}`);
  }

  #tileLayer(name, zIndex) {
    const version = state.get('tileVersion');
    const layer = new TileLayer(`/tiles/${name}/{z}/{x}/{y}.png?v=${version}`, { zIndex, maxZoom: 18, detectRetina: true, className: `tiles-${name}` });
    layer.on('tileloadstart', () => { this.pending += 1; this.#showStatus(t('map.loading')); });
    const done = () => { this.pending = Math.max(0, this.pending - 1); if (this.pending === 0) this.#hideStatus(); };
    layer.on('tileload', done);
    layer.on('tileerror', () => { done(); this.failed += 1; this.#showStatus(t('map.tileError'), true); });
    return layer;
  }

  #setCoverage() {
    if (this.coverage) this.map.removeLayer(this.coverage);
    this.coverageName = `coverage-${state.get('level')}`;
    // At the park level the parks lie over the organizations' clusters, their names too: the
    // coverage tiles draw above the overlays there (elsewhere the areas are the ground beneath).
    this.coverage = this.#tileLayer(this.coverageName, state.get('level') === 'park' ? 30 : 10).addTo(this.map);
    this.#syncOpacity();
    this.#legend();
    this.#parks().catch(() => {});
  }

  /** At the park level the parks themselves answer the pointer, above the organizations'
   *  clusters: hover outlines one with its name and rate, a click or tap inside opens its card. */
  async #parks() {
    this.parkLayer?.remove();
    this.parkLayer = null;
    if (state.get('level') !== 'park') return this.#declutter();
    const list = await get('/api/areas?level=park&limit=500');
    const cards = await Promise.all(list.items.map((a) => get(`/api/areas/${seg(a.code)}?limit=1`)));
    if (state.get('level') !== 'park') return;  // switched again meanwhile
    const features = cards.map((c) => ({ type: 'Feature', properties: { code: c.code, name: c.name, rate: c.org_coverage }, geometry: c.geometry }));
    const rest = { color: '#08519c', weight: 1.5, fillColor: '#08519c', fillOpacity: 0.04 };
    this.parkLayer = L.geoJSON(features, { pane: 'parks', style: rest });
    this.parkLayer.eachLayer((l) => {
      const { code, name, rate } = l.feature.properties;
      l.bindTooltip(document.createTextNode(`${name} · ${t('cov.org')} ${(rate * 100).toFixed(1)} %`), { sticky: true, className: 'park-tip' });
      l.on('mouseover', () => l.setStyle({ weight: 3, fillOpacity: 0.18 }));
      l.on('mouseout', () => l.setStyle(rest));
      l.on('click', (e) => {
        L.DomEvent.stopPropagation(e);  // not the nearest organization: the park
        state.set('areaRequest', code);
      });
    });
    this.parkLayer.addTo(this.map);
    this.parkLayer.eachLayer((l) => l.getElement()?.setAttribute('data-park', l.feature.properties.code));
    this.#declutter();
  }

  #syncOverlays() {
    OVERLAYS.forEach((name, i) => {
      const on = this.form.elements[name].checked;
      if (on && !this.tileLayers[name]) this.tileLayers[name] = this.#tileLayer(name, 20 + i).addTo(this.map);
      if (!on && this.tileLayers[name]) { this.map.removeLayer(this.tileLayers[name]); delete this.tileLayers[name]; }
    });
    this.#legend();
  }

  #syncOpacity() {
    const o = Number(this.form.elements.opacity.value) / 100;
    this.coverage?.setOpacity(o);
    if (this.tileLayers.heatmap) this.tileLayers.heatmap.setOpacity(Math.min(1, o + 0.25));
  }

  /** New URLs (a version parameter) make the browser fetch the tiles a change touched: the
   *  organizations' tiles around its organizations, the coverage tiles over the districts it
   *  touched. The heatmap's classes are the whole city's and the assignment lines reach the
   *  instructors: those two layers load again whole, as does everything after a change
   *  without a place (an import, this page's own edit). */
  #refreshTiles() {
    const v = state.get('tileVersion');
    const where = state.get('changePlace');
    let near = null, areas = null;
    if (where?.bbox) {
      const [w, s, e, n] = where.bbox;
      near = L.latLngBounds([s, w], [n, e]);
      // No district named (a change of thousands of places names none): all coverage tiles.
      const known = (where.areas ?? []).filter((code) => this.districtBounds?.has(code));
      areas = known.length ? L.latLngBounds([s, w], [n, e]) : null;
      for (const code of known) areas.extend(this.districtBounds.get(code));
    }
    const url = (name) => `/tiles/${name}/{z}/{x}/{y}.png?v=${v}`;
    this.coverage?.refreshWithin(url(this.coverageName), areas);
    for (const [name, layer] of Object.entries(this.tileLayers)) layer.refreshWithin(url(name), name === 'orgs' || name === 'ledger-due' ? near : null);
  }

  async #legend() {
    const names = [this.coverageName, ...OVERLAYS.filter((n) => this.tileLayers[n])];
    const docs = await Promise.all(names.map((n) => get(`/tiles/${n}.json`).catch(() => null)));
    this.legend.replaceChildren();
    docs.forEach((doc, i) => {
      if (!doc) return;
      const h = document.createElement('h3');
      h.textContent = names[i].startsWith('coverage-') ? t('legend.orgRate') : t(`layer.${names[i]}`);
      if (names[i].startsWith('coverage-')) h.title = t('def.org');
      const ul = document.createElement('ul');
      for (const entry of doc.legend ?? []) {
        const li = document.createElement('li');
        if (entry.color) {
          const sw = document.createElement('span');
          sw.className = 'swatch';
          sw.style.background = entry.color;
          li.append(sw);
        }
        li.append(legendLabel(entry));
        ul.append(li);
      }
      this.legend.append(h, ul);
    });
  }

  async #pick(latlng) {
    const radius = Math.max(30, 40 * 156543 * Math.cos((latlng.lat * Math.PI) / 180) / 2 ** this.map.getZoom());
    const r = await get(`/api/orgs?near=${latlng.lng.toFixed(6)},${latlng.lat.toFixed(6)}&radius_m=${Math.min(50000, radius).toFixed(0)}&limit=1`);
    if (r.items.length) state.set('org', r.items[0].id);
  }

  zoomToBox([minx, miny, maxx, maxy]) { this.map.fitBounds([[miny, minx], [maxy, maxx]], { maxZoom: 16 }); }

  outline(geometry) {
    this.highlight.clearLayers();
    L.geoJSON(geometry, { pane: 'highlight', style: { color: '#1d4ed8', weight: 3, fill: false }, interactive: false }).addTo(this.highlight);
  }

  markOrg(org) {
    this.highlight.clearLayers();
    L.circleMarker([org.lat, org.lon], { pane: 'highlight', radius: 10, color: '#1d4ed8', weight: 3, fill: false }).addTo(this.highlight);
  }

  flyToOrg(org) { this.map.setView([org.lat, org.lon], Math.max(this.map.getZoom(), 15)); }

  /** A plan's proposals: joint branches as outlined groups, instructor proposals as lines. */
  showPlan(proposals) {
    this.planLayer.clearLayers();
    // The drawings' legend: there while a plan is drawn, gone with it.
    if (!this.planLegend) {
      this.planLegend = L.control({ position: 'bottomright' });
      this.planLegend.onAdd = () => {
        const box = L.DomUtil.create('div', 'plan-legend');
        const row = (cls, key) => { const r = L.DomUtil.create('div', '', box); L.DomUtil.create('span', `mark ${cls}`, r); r.append(t(key)); };
        L.DomUtil.create('strong', '', box).textContent = t('plans.legend');
        row('joint', 'plans.legend.joint');
        row('line', 'plans.legend.instructor');
        row('dot', 'plans.legend.org');
        return box;
      };
    }
    if (proposals?.length) this.planLegend.addTo(this.map);
    else this.planLegend.remove();
    for (const p of proposals ?? []) {
      const pts = (p.places ?? []).map((o) => [o.lat, o.lon]);
      if ((p.type === 'instructor' || p.type === 'move') && p.instructor) {  // a move: the line to the new instructor
        for (const pt of pts) L.polyline([[p.instructor.lat, p.instructor.lon], pt], { color: '#6a3d9a', weight: 2, dashArray: '4 4', interactive: false }).addTo(this.planLayer);
      } else if (p.type === 'joint' && pts.length > 1) {
        L.polygon(pts, { color: '#1a9641', weight: 2, fillOpacity: 0.15, interactive: false }).addTo(this.planLayer);
      }
      for (const pt of pts) L.circleMarker(pt, { radius: 4, color: '#6a3d9a', weight: 1, fillOpacity: 0.8, interactive: false }).addTo(this.planLayer);
    }
  }

  #showStatus(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
    this.status.hidden = false;
  }

  #hideStatus() { if (!this.status.classList.contains('error')) this.status.hidden = true; }
}
