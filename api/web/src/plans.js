// Plans: run the planner for a level, see the proposals by type with the coverage they would
// reach, draw them on the map, accept all of a type or the ones picked; flags link to the
// organizations they name.
import { get, request, seg } from './api.js';
import { percent, t } from './i18n.js';
import { canEdit, state } from './state.js';
import { confirmAction, toast } from './undo.js';

const TYPES = ['standalone', 'joint', 'affiliate', 'instructor'];

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
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
    const previous = el('ul', { className: 'plain' });
    for (const p of list.items.slice(0, 5)) {
      const b = el('button', { type: 'button', className: 'linkish', textContent: `${p.id} · ${p.created.slice(0, 16).replace('T', ' ')} · ${statusText(p.status)}` });
      b.addEventListener('click', () => this.open(p.id));
      previous.append(el('li', {}, b));
    }
    this.body = el('section', { className: 'plan-body' }, el('p', { className: 'muted', textContent: t('plans.none') }));
    this.root.replaceChildren(el('h2', { textContent: t('plans.title') }),
      el('div', { className: 'plan-controls' }, el('label', {}, `${t('plans.scope')} `, scope), el('label', {}, `${t('plans.level')} `, level), run),
      this.body, el('h3', { textContent: t('plans.previous') }), previous);
  }

  /** 全市, then each district (its whole, then its streets, named with their district), then parks. */
  #scopePicker(districts, streets, parks) {
    const scope = el('select', { name: 'scope' });
    scope.append(el('option', { value: '', textContent: t('plans.scopeAll') }));
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
    } catch (e) {
      this.body.replaceChildren(el('p', { className: 'message error', textContent: e.plain ?? String(e) }));
    }
  }

  /** Leaving the plans tab takes the drawings away; coming back brings the open plan's back. */
  visible(shown) {
    if (!shown) this.mapView.showPlan([]);
    else if (this.plan) this.mapView.showPlan(this.plan.proposals.filter((p) => !this.applied.has(p.id)));
  }

  async open(id) { this.show(await get(`/api/plan/${seg(id)}`)); }

  show(plan) {
    this.plan = plan;
    this.applied = new Set(plan.accepted ?? []);
    state.set('plan', plan.id);
    this.mapView.showPlan(plan.proposals);
    const r = plan.reach;
    const where = plan.area ? (this.areaNames?.get(plan.area) ?? plan.area) : t('plans.scopeAll');
    const parts = [el('h3', { textContent: `${plan.id} · ${where} · ${statusText(plan.status)}` })];
    if (r) parts.push(el('p', { className: 'reach', textContent: t('plans.reach', { orgNow: percent(r.org_coverage_now), orgAfter: percent(r.org_coverage_after), workNow: percent(r.work_coverage_now), workAfter: percent(r.work_coverage_after) }) }));
    this.result = el('div', { role: 'status' });
    parts.push(this.result);
    for (const type of TYPES) {
      const items = plan.proposals.filter((p) => p.type === type);
      if (!items.length) continue;
      const ul = el('ul', { className: 'plain' });
      for (const p of items.filter((q) => !this.applied.has(q.id)).slice(0, 200)) {
        const box = el('input', { type: 'checkbox', value: p.id });
        const names = (p.places ?? []).map((o) => o.name).join('、');
        const extra = p.instructor ? ` → ${p.instructor.name}` : '';
        const locate = el('button', { type: 'button', className: 'linkish', textContent: t('plans.locate') });
        locate.dataset.action = 'locate';
        locate.addEventListener('click', () => this.mapView.zoomToBox(p.bbox));
        const li = el('li', {}, el('label', {}, box, `${names}${extra}`), ' ', locate,
          el('small', { className: 'why', textContent: [p.street_name, p.reason].filter(Boolean).join(' · ') }));
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
    for (const f of plan.flags.slice(0, 100)) {
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
