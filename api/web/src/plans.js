// Plans: run the planner for a level, see the proposals by type with the coverage they would
// reach, draw them on the map, accept all of a type or the ones picked; flags link to the
// organizations they name. 均衡调整 proposes moves between instructors (overloads first, then
// distance, at most so many moves); 方案对比 puts two plans, or a plan and today, side by side
// and draws the organizations they treat differently.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { ApiError, get, request, seg } from './api.js';
import { percent, t } from './i18n.js';
import { canEdit, state } from './state.js';
import { confirmAction, toast } from './undo.js';

const TYPES = ['standalone', 'joint', 'affiliate', 'instructor', 'move'];
const COMPARE_FIGURES = [['org_coverage', percent], ['work_coverage', percent], ['orgs_touched', String], ['instructors_used', String],
  ['total_m', (m) => t('plans.km', { km: (m / 1000).toFixed(1) })]];
const CURRENT = 'current';  // compare's name for today's assignments

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** [minx, miny, maxx, maxy] of a proposal's organizations and instructor (a move carries no bbox). */
function boxOf(p) {
  const pts = [...(p.places ?? []), ...(p.instructor ? [p.instructor] : [])];
  const xs = pts.map((o) => o.lon), ys = pts.map((o) => o.lat);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** A plan's status as the API gives it (open, accepted n/m), in the page's words. */
function statusText(status) {
  const m = /^accepted (\d+)\/(\d+)$/.exec(status ?? '');
  return m ? t('plans.status.accepted', { n: m[1], m: m[2] }) : t('plans.status.open');
}

export class Plans {
  constructor(root, mapView) {
    this.root = root;
    this.mapView = mapView;
  }

  async load() {
    const [list, districts, streets, parks] = await Promise.all([get('/api/plans'), get('/api/areas?level=district&limit=200'),
      get('/api/areas?level=street&limit=5000'), get('/api/areas?level=park&limit=500')]);
    this.areaNames = new Map([...districts.items, ...streets.items, ...parks.items].map((a) => [a.code, a.name]));
    const level = el('select', { name: 'level' });
    for (const l of ['grid', 'community', 'street']) level.append(el('option', { value: l, textContent: t(`level.${l}`) }));
    const run = el('button', { type: 'button', className: 'primary', textContent: t('plans.run'), disabled: !canEdit() });
    run.dataset.action = 'run-plan';
    const scope = this.#scopePicker(districts.items, streets.items, parks.items);
    run.addEventListener('click', () => this.run(level.value, scope.value));
    this.previous = el('ul', { className: 'plain' });
    this.body = el('section', { className: 'plan-body' }, el('p', { className: 'muted', textContent: t('plans.none') }));
    this.compareLayer = L.layerGroup();
    if (!this.mapView.map.getPane('tools')) this.mapView.map.createPane('tools').style.zIndex = 630;  // above the parks and tiles
    this.root.replaceChildren(el('h2', { textContent: t('plans.title') }),
      el('div', { className: 'plan-controls' }, el('label', {}, `${t('plans.scope')} `, scope), el('label', {}, `${t('plans.level')} `, level), run),
      this.#rebalanceForm(districts.items, streets.items, parks.items),
      this.body, el('h3', { textContent: t('plans.previous') }), this.previous, this.#compareForm());
    this.#list(list.items);
  }

  /** The plans made so far: the five newest to open, all of them to compare. */
  #list(items) {
    this.plans = items;
    this.previous.replaceChildren(...items.slice(0, 5).map((p) => {
      const b = el('button', { type: 'button', className: 'linkish', textContent: `${p.id} · ${p.created.slice(0, 16).replace('T', ' ')} · ${statusText(p.status)}` });
      b.addEventListener('click', () => this.open(p.id));
      return el('li', {}, b);
    }));
    const label = (p) => [p.mode === 'rebalance' ? t('plans.rebalance') : null, p.area ? (this.areaNames?.get(p.area) ?? p.area) : null,
      p.created?.slice(0, 16).replace('T', ' '), p.id].filter(Boolean).join(' · ');
    for (const [pick, withCurrent] of [[this.compareA, false], [this.compareB, true]]) {
      const was = pick.value;
      pick.replaceChildren(...(withCurrent ? [el('option', { value: CURRENT, textContent: t('compare.current') })] : []),
        ...items.map((p) => el('option', { value: p.id, textContent: label(p) })));
      if ([...pick.options].some((o) => o.value === was)) pick.value = was;
    }
    this.compareRun.disabled = !items.length;
  }

  async #reloadList() {
    try { this.#list((await get('/api/plans')).items); } catch { /* the list stays as it was */ }
  }

  /** 均衡调整: where, and how many assignments may change at most. */
  #rebalanceForm(districts, streets, parks) {
    // A rebalance is for a district, a street or a park (the server asks for one): the area the
    // page has open or the account's own when it is one of them.
    const scope = this.#scopePicker(districts, streets, parks, false);
    const preset = () => {
      const code = state.get('area') ?? state.get('scope');
      if (code && [...scope.options].some((o) => o.value === code)) scope.value = code;
    };
    preset();
    state.on('area', preset);
    const moves = el('input', { type: 'number', name: 'max_moves', min: 1, max: 1000, step: 1, value: 10, required: true });
    const run = el('button', { type: 'submit', className: 'primary', textContent: t('plans.rebalance.run'), disabled: !canEdit() });
    run.dataset.action = 'run-rebalance';
    const form = el('form', { className: 'plan-controls rebalance', noValidate: true },
      el('label', {}, `${t('plans.scope')} `, scope), el('label', {}, `${t('plans.maxMoves')} `, moves), run);
    form.dataset.form = 'rebalance';
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = Math.round(Number(moves.value));
      if (!Number.isFinite(n) || n < 1 || n > 1000) {
        this.body.replaceChildren(el('p', { className: 'message error', role: 'alert', textContent: t('plans.rebalance.bad') }));
        moves.focus();
        return;
      }
      this.rebalance(scope.value, n);
    });
    const box = el('details', { className: 'rebalance-box' }, el('summary', { textContent: t('plans.rebalance') }),
      el('p', { className: 'muted', textContent: t('plans.rebalance.note') }), form);
    return box;
  }

  async rebalance(area, maxMoves) {
    this.body.replaceChildren(el('p', { className: 'loading', textContent: t('plans.running') }));
    try {
      const { data } = await request('POST', '/api/plan', { body: { mode: 'rebalance', max_moves: maxMoves, ...(area ? { area } : {}) } });
      this.show(data);
      this.#reloadList();
    } catch (e) {
      this.body.replaceChildren(el('p', { className: 'message error', role: 'alert', textContent: e instanceof ApiError ? e.plainOr(t('plans.rebalance.failed')) : String(e?.message ?? e) }));
    }
  }

  /** 方案对比: a plan against another or against today. */
  #compareForm() {
    this.compareA = el('select', { name: 'compare-a' });
    this.compareB = el('select', { name: 'compare-b' });
    this.compareRun = el('button', { type: 'button', className: 'secondary', textContent: t('compare.run') });
    this.compareRun.dataset.action = 'compare';
    this.compareRun.addEventListener('click', () => this.compare(this.compareA.value, this.compareB.value));
    this.compareBody = el('div', { className: 'compare-body' });
    const section = el('section', { className: 'compare' }, el('h3', { textContent: t('compare.title') }),
      el('div', { className: 'plan-controls' }, el('label', {}, `${t('compare.a')} `, this.compareA), el('label', {}, `${t('compare.b')} `, this.compareB), this.compareRun),
      this.compareBody);
    return section;
  }

  async compare(a, b) {
    if (!a || !b || a === b) {
      this.compareBody.replaceChildren(el('p', { className: 'message error', role: 'alert', textContent: t('compare.need') }));
      return;
    }
    this.compareBody.replaceChildren(el('p', { className: 'loading', textContent: t('compare.loading') }));
    let d;
    try {
      d = await get(`/api/plan/${seg(a)}/compare/${seg(b)}`);
    } catch (e) {
      const fallback = t(e.status === 404 ? 'compare.gone' : 'compare.failed');
      this.compareBody.replaceChildren(el('p', { className: 'message error', role: 'alert', textContent: e instanceof ApiError ? e.plainOr(fallback) : String(e?.message ?? e) }));
      return;
    }
    const name = (id) => (id === CURRENT ? t('compare.current') : id);
    // Each side in full (what, where, when) above the figures; the columns by their short name.
    const sides = el('ul', { className: 'plain compare-sides' }, ...[[a, this.compareA], [b, this.compareB]].map(([id, pick], k) =>
      el('li', { textContent: `${t(k ? 'compare.b' : 'compare.a')}：${id === CURRENT ? t('compare.currentLong') : [...pick.options].find((o) => o.value === id)?.textContent ?? id}` })));
    const table = el('table', { className: 'compare-figures' });
    const head = table.createTHead().insertRow();
    head.append(el('th', { textContent: t('compare.metric') }), el('th', { className: 'num side-a', textContent: name(a) }), el('th', { className: 'num side-b', textContent: name(b) }));
    const body = table.createTBody();
    for (const [key, format] of COMPARE_FIGURES) {
      const tr = body.insertRow();
      tr.dataset.figure = key;
      const [va, vb] = [d.a?.[key], d.b?.[key]];
      tr.append(el('th', { scope: 'row', textContent: t(`compare.${key}`) }),
        el('td', { className: 'num side-a', textContent: va === undefined || va === null ? '—' : format(va) }),
        el('td', { className: 'num side-b', textContent: vb === undefined || vb === null ? '—' : format(vb) }));
      if (va !== vb) tr.classList.add('differs');
    }
    const places = d.differ_places ?? (d.differ ?? []).map((id) => ({ id, name: id }));
    const parts = [sides, table, el('h4', { textContent: t('compare.differ', { n: (d.differ ?? places).length }) })];
    if (!places.length) parts.push(el('p', { className: 'muted', textContent: t('compare.same') }));
    const ul = el('ul', { className: 'plain compare-differ' });
    for (const p of places.slice(0, 200)) {
      const go = el('button', { type: 'button', className: 'linkish', textContent: p.name });
      go.addEventListener('click', () => state.set('org', p.id));
      const li = el('li', {}, go);
      if (p.a !== undefined || p.b !== undefined)
        li.append(el('small', { className: 'why', textContent: t('compare.sides', { a: name(a), b: name(b), ta: p.a ?? '—', tb: p.b ?? '—' }) }));
      li.dataset.org = p.id;
      ul.append(li);
    }
    if (places.length) parts.push(ul);
    if (places.length > 200) parts.push(el('p', { className: 'muted', textContent: t('undo.more', { n: places.length - 200 }) }));
    this.compareBody.replaceChildren(...parts);
    // The map: what differs, and nothing of an open plan's drawings (they would be read as the difference).
    this.mapView.showPlan([]);
    this.compareLayer.clearLayers();
    const pts = places.filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon)).map((p) => {
      L.circleMarker([p.lat, p.lon], { pane: 'tools', className: 'compare-org', radius: 6, color: '#fff', weight: 1.5, fillColor: '#d97706', fillOpacity: 1 })
        .bindTooltip(document.createTextNode(p.a !== undefined ? `${p.name}：${name(a)} ${p.a ?? '—'}；${name(b)} ${p.b ?? '—'}` : p.name))
        .on('click', () => state.set('org', p.id)).addTo(this.compareLayer);
      return [p.lat, p.lon];
    });
    this.compareLayer.addTo(this.mapView.map);
    if (pts.length) this.mapView.map.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 14 });
    this.comparing = true;
  }

  /** 全市, then each district (its whole, then its streets, named with their district), then parks. */
  #scopePicker(districts, streets, parks, city = true) {
    const scope = el('select', { name: 'scope' });
    if (city) scope.append(el('option', { value: '', textContent: t('plans.scopeAll') }));
    for (const d of districts) {
      const group = el('optgroup', { label: d.name });
      group.append(el('option', { value: d.code, textContent: t('plans.scopeWhole', { name: d.name }) }));
      for (const s of streets.filter((x) => x.parent_code === d.code || x.code.startsWith(d.code)))
        group.append(el('option', { value: s.code, textContent: `${d.name} · ${s.name}` }));
      scope.append(group);
    }
    if (parks.length) {
      const group = el('optgroup', { label: t('level.park') });
      for (const p of parks) group.append(el('option', { value: p.code, textContent: p.name }));
      scope.append(group);
    }
    return scope;
  }

  async run(level, area) {
    this.body.replaceChildren(el('p', { className: 'loading', textContent: t('plans.running') }));
    try {
      const { data } = await request('POST', '/api/plan', { body: area ? { level, area } : { level } });
      this.show(data);
      this.#reloadList();
    } catch (e) {
      this.body.replaceChildren(el('p', { className: 'message error', textContent: e.plain ?? String(e) }));
    }
  }

  /** Leaving the plans tab takes the drawings away; coming back brings the open plan's back. */
  visible(shown) {
    if (!shown) { this.mapView.showPlan([]); this.compareLayer?.remove(); }
    else if (this.comparing) this.compareLayer.addTo(this.mapView.map);
    else if (this.plan) this.mapView.showPlan(this.plan.proposals.filter((p) => !this.applied.has(p.id)));
  }

  async open(id) { this.show(await get(`/api/plan/${seg(id)}`)); }

  show(plan) {
    this.plan = plan;
    this.applied = new Set(plan.accepted ?? []);
    state.set('plan', plan.id);
    this.comparing = false;
    this.compareLayer?.clearLayers();
    this.mapView.showPlan(plan.proposals);
    const r = plan.reach;
    const where = plan.area ? (this.areaNames?.get(plan.area) ?? plan.area) : t('plans.scopeAll');
    const kind = plan.mode === 'rebalance' ? `${t('plans.rebalance')} · ` : '';
    const parts = [el('h3', { textContent: `${kind}${plan.id} · ${where} · ${statusText(plan.status)}` })];
    const s = plan.mode === 'rebalance' ? plan.summary : null;
    if (s) {
      const p = el('p', { className: 'reach rebalance-summary', textContent: t('plans.rebalance.summary', { moves: s.moves, ob: s.overloaded_before, oa: s.overloaded_after,
        mb: percent(s.max_load_before), ma: percent(s.max_load_after), db: (s.distance_before_m / 1000).toFixed(1), da: (s.distance_after_m / 1000).toFixed(1) }) });
      parts.push(p);
      if (!plan.proposals.length) parts.push(el('p', { className: 'muted', textContent: t('plans.rebalance.none') }));
    }
    if (r) parts.push(el('p', { className: 'reach', textContent: t('plans.reach', { orgNow: percent(r.org_coverage_now), orgAfter: percent(r.org_coverage_after), workNow: percent(r.work_coverage_now), workAfter: percent(r.work_coverage_after) }) }));
    this.result = el('div', { role: 'status' });
    parts.push(this.result);
    for (const type of TYPES) {
      const items = plan.proposals.filter((p) => p.type === type);
      if (!items.length) continue;
      const ul = el('ul', { className: 'plain' });
      for (const p of items.filter((q) => !this.applied.has(q.id)).slice(0, 200)) {
        const box = el('input', { type: 'checkbox', value: p.id });
        const names = p.type === 'move' ? `${p.org_name ?? (p.places ?? []).map((o) => o.name).join('、')}：${p.from_name ?? ''}` : (p.places ?? []).map((o) => o.name).join('、');
        const extra = p.type === 'move' ? ` → ${p.to_name ?? p.instructor?.name ?? ''}` : p.instructor ? ` → ${p.instructor.name}` : '';
        const locate = el('button', { type: 'button', className: 'linkish', textContent: t('plans.locate') });
        locate.dataset.action = 'locate';
        locate.addEventListener('click', () => this.mapView.zoomToBox(p.bbox ?? boxOf(p)));
        const saved = p.type === 'move' && p.saved_m && !p.reason ? t(p.saved_m >= 0 ? 'plans.saved' : 'plans.longer', { km: (Math.abs(p.saved_m) / 1000).toFixed(1) }) : null;
        const li = el('li', {}, el('label', {}, box, `${names}${extra}`), ' ', locate,
          el('small', { className: 'why', textContent: [p.street_name, saved, p.reason].filter(Boolean).join(' · ') }));
        li.dataset.proposal = p.id;
        ul.append(li);
      }
      const all = el('button', { type: 'button', className: 'secondary', textContent: t('plans.acceptAll'), disabled: !canEdit() });
      all.dataset.action = 'accept-all';
      all.addEventListener('click', async () => {
        const pending = items.filter((p) => !this.applied.has(p.id));
        const orgs = pending.reduce((n, p) => n + p.orgs.length, 0);
        if (pending.length && await confirmAction(t('confirm.acceptAll', { n: pending.length, orgs }), t('plans.acceptAll')))
          this.accept(pending.map((p) => p.id));
      });
      const group = el('details', { className: 'proposal-group', open: type !== 'instructor' },
        el('summary', { textContent: `${t(`plans.type.${type}`)} (${items.length})` }), all, ul);
      group.dataset.type = type;
      parts.push(group);
    }
    const picked = el('button', { type: 'button', className: 'primary', textContent: t('plans.acceptSelected'), disabled: !canEdit() });
    picked.dataset.action = 'accept-selected';
    picked.addEventListener('click', () => this.accept([...this.body.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value)));
    parts.push(picked, el('h3', { textContent: t('plans.flags') }));
    const flags = el('ul', { className: 'plain flags' });
    for (const f of (plan.flags ?? []).slice(0, 100)) {
      const li = el('li', {}, `${t(`flag.${f.type}`)}: `);
      if (['no_members', 'outside_grid', 'duplicate_credit_code', 'invalid_credit_code'].includes(f.type)) {
        // Organization flags link to the organizations they name.
        const text = f.message ?? f.ids.join(', ');
        const b = el('button', { type: 'button', className: 'linkish', textContent: text });
        b.addEventListener('click', () => state.set('org', f.ids[0]));
        li.append(b);
      } else {
        li.append(f.message ?? f.ids.join(', '));
      }
      flags.append(li);
    }
    parts.push(flags);
    this.body.replaceChildren(...parts);
  }

  async accept(ids) {
    if (!ids.length) return;
    try {
      const { data } = await request('POST', `/api/plan/${seg(this.plan.id)}/accept`, { body: { proposals: ids } });
      // Accepted proposals leave the pending list; each refused one says why.
      for (const id of data.applied) {
        this.applied.add(id);
        this.body.querySelector(`li[data-proposal="${CSS.escape(id)}"]`)?.remove();
      }
      this.result.className = data.conflicts.length ? 'message error' : 'message';
      const reasons = data.conflicts.slice(0, 5).map((c) => c.reason).join('；');
      this.result.textContent = t('plans.accepted', { n: data.applied.length, c: data.conflicts.length }) + (reasons ? `：${reasons}` : '');
      this.result.scrollIntoView({ block: 'nearest' });
      state.changed();
      if (data.change_id) toast(t('plans.accepted', { n: data.applied.length, c: data.conflicts.length }), { changeId: data.change_id });
    } catch (e) {
      this.result.className = 'message error';
      this.result.textContent = e.plain ?? String(e);
    }
  }
}
