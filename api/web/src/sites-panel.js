// Demonstration sites (示范点) and leaders' contact points (联系点): sites designated against the
// quotas of the city, each district and each park with one (a bar chart and a table, county or
// city level, by year), the site list of the area picked, designation by organization search,
// and the contact points with their state. Planners and admins get the forms; viewers read.
// Quotas are set by admins on the command line (covermap quota set): the page only shows them.
import * as echarts from '../vendor/echarts-6.1.0/echarts.esm.min.mjs';
import { ApiError, get, request, seg } from './api.js';
import { el, select } from './dom.js';
import { language, percent, t } from './i18n.js';
import { canEdit, state } from './state.js';
import { confirmAction, toast } from './undo.js';

const LEVELS = ['county', 'city'];
const FIRST_ROWS = 15;  // site rows shown before 显示全部
const COLOR = { quota: '#d0d5db', count: '#8b1a1a', over: '#d97706' };

/** This year in China (the server's default year too). */
const thisYear = () => new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();

/** What a planner reads for a refused write: the server's own sentence for a refusal it explains
 *  (400, outside the account's area), the page's sentence for the rest. */
function refusal(e) {
  if (!(e instanceof ApiError)) return String(e?.message ?? e);
  if (e.status === 400 || e.code === 'OutOfArea' || e.code === 'OutOfScope') return e.message;
  if (e.status === 404) return t('sites.gone');
  return e.plain;
}

/** The toast after an edit, with 撤销 doing this panel's own undo: the server refuses to revert a
 *  site's or a contact point's change through /api/changes, so undo is the opposite write. */
function toastWithUndo(text, undo) {
  toast(text, { undo });
}

/** A table; `stack`: one block per row (the side panel is too narrow for columns), each cell
 *  carrying its column's name. */
function table(className, columns, stack = true) {
  const tb = el('table', { className: stack ? `${className} stack` : className });
  const head = tb.createTHead().insertRow();
  for (const [label, num] of columns) head.append(el('th', { className: num ? 'num' : '', textContent: label }));
  tb.append(el('tbody'));
  return tb;
}

function cell(tr, label, value, className = '') {
  const td = tr.insertCell();
  td.className = className;
  td.dataset.label = label;
  if (value instanceof Node) td.append(value);
  else td.textContent = value ?? '';
  return td;
}

/** An organization picked by searching its name; `refuse(org)` gives the reason it cannot be
 *  picked (shown beside it, the button off), or null. */
function orgPicker(name, refuse) {
  const input = el('input', { type: 'search', name: `${name}-search`, autocomplete: 'off', placeholder: t('sites.pick.placeholder') });
  input.setAttribute('aria-label', t('sites.pick.placeholder'));
  const results = el('ul', { className: 'plain org-results', hidden: true });
  const chosenName = el('b');
  const again = el('button', { type: 'button', className: 'linkish', textContent: t('sites.pick.again') });
  const chosen = el('p', { className: 'chosen', hidden: true }, `${t('sites.pick.chosen')} `, chosenName, ' ', again);
  const root = el('div', { className: 'org-pick' }, input, results, chosen);
  root.dataset.picker = name;
  let picked = null;
  let seq = 0;
  let timer = null;
  const choose = (o) => {
    picked = o;
    chosenName.textContent = o ? o.name : '';
    chosen.hidden = !o;
    input.hidden = !!o;
    results.hidden = true;
    if (!o) { input.value = ''; input.focus(); }
  };
  again.addEventListener('click', () => choose(null));
  const search = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { results.hidden = true; return; }
    let items;
    try {
      items = (await get(`/api/orgs?q=${encodeURIComponent(q)}&limit=10`)).items;
    } catch (e) {
      items = null;
      if (mine === seq) results.replaceChildren(el('li', { className: 'error', textContent: refusal(e) }));
    }
    if (mine !== seq || !items) { results.hidden = mine !== seq; return; }
    results.replaceChildren(...items.map((o) => {
      const why = refuse(o);
      const b = el('button', { type: 'button', className: 'linkish', textContent: o.name, disabled: !!why });
      b.addEventListener('click', () => choose(o));
      const li = el('li', {}, b, ' ', el('small', { className: 'muted', textContent: t(`state.${o.state}`) }));
      li.dataset.org = o.id;
      if (why) {
        li.className = 'refused';
        li.append(el('small', { className: 'reason', textContent: why }));
      }
      return li;
    }));
    if (!items.length) results.replaceChildren(el('li', { className: 'muted', textContent: t('sites.pick.none') }));
    results.hidden = false;
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape') results.hidden = true; });
  return { root, value: () => picked, clear: () => { choose(null); input.blur(); } };
}

export class SitesPanel {
  constructor(root) {
    this.root = root;
    this.level = 'county';
    this.year = thisYear();
    this.area = '';  // the area picked: '' is the whole city
    this.stale = true;
    this.seq = 0;
    this.contactSeq = 0;
    // Any change (a colleague's, another page's): read again now if the tab is shown, else
    // when it is next shown (fifteen small requests a change are not spent on a hidden tab).
    state.on('tileVersion', () => { this.stale = true; if (this.#shown()) this.refresh(); });
    state.on('tab', (name) => {
      if (name !== 'sites') return;
      if (this.stale) this.refresh();
      else if (this.chartPending) this.#chart();
    });
  }

  #shown() { return state.get('tab') === 'sites' && !this.root.hidden; }

  async load() {
    const [districts, parks] = await Promise.all([get('/api/areas?level=district&limit=100'), get('/api/areas?level=park&limit=500')]);
    this.areas = [{ code: '', name: t('sites.city'), kind: 'city' },
      ...districts.items.map((a) => ({ code: a.code, name: a.name, kind: 'district' })),
      ...parks.items.map((a) => ({ code: a.code, name: a.name, kind: 'park' }))];
    // A planner limited to a district or park starts with it.
    const scope = state.get('scope');
    if (scope && this.areas.some((a) => a.code === scope)) this.area = scope;

    const levels = el('div', { className: 'segmented' });
    levels.setAttribute('role', 'group');
    levels.setAttribute('aria-label', t('sites.level'));
    this.levelButtons = LEVELS.map((l) => {
      const b = el('button', { type: 'button', textContent: t(`sites.level.${l}`) });
      b.dataset.level = l;
      b.addEventListener('click', () => this.#setLevel(l));
      levels.append(b);
      return b;
    });
    const y = thisYear();
    this.yearSelect = select('year', [y + 1, y, y - 1, y - 2].map((v) => [String(v), t('sites.yearName', { y: v })]));
    this.yearSelect.value = String(this.year);
    this.yearSelect.addEventListener('change', () => { this.year = Number(this.yearSelect.value); this.#syncForm(); this.refresh(); });
    const controls = el('div', { className: 'sites-controls' }, el('span', {}, `${t('sites.level')} `), levels,
      el('label', {}, `${t('sites.year')} `, this.yearSelect));

    this.chartBox = el('div', { className: 'chart sites-chart' });
    this.noQuotas = el('p', { className: 'muted no-quotas', textContent: t('sites.noQuotas'), hidden: true });
    this.quota = table('quota', [[t('sites.col.name')], [t('sites.col.kind')], [t('sites.col.quota'), true], [t('sites.col.count'), true], [t('sites.col.rate'), true]], false);
    this.status = el('p', { className: 'message error', hidden: true });
    this.status.setAttribute('role', 'alert');

    this.areaSelect = select('area', this.areas.map((a) => [a.code, a.kind === 'park' ? `${t('sites.kind.park')} ${a.name}` : a.name]));
    this.areaSelect.value = this.area;
    this.areaSelect.addEventListener('change', () => this.pick(this.areaSelect.value));
    this.listTitle = el('h3');
    this.sitesLink = el('a', { className: 'secondary download', textContent: t('sites.export') });
    this.sitesLink.dataset.action = 'sites-xlsx';
    this.sitesLink.setAttribute('download', '');
    this.list = el('div', { className: 'site-list' });

    this.contactsTitle = el('h3');
    this.contactsLink = el('a', { className: 'secondary download', textContent: t('contacts.export') });
    this.contactsLink.dataset.action = 'contacts-xlsx';
    this.contactsLink.setAttribute('download', '');
    this.contacts = el('div', { className: 'contact-list' });

    const parts = [el('h2', { textContent: t('sites.title') }), controls, this.status,
      el('h3', { textContent: t('sites.progress') }), this.chartBox, this.noQuotas,
      el('p', { className: 'muted', textContent: t('sites.chartNote') }), this.quota,
      el('div', { className: 'list-head' }, this.listTitle, this.sitesLink), el('label', { className: 'area-pick' }, `${t('sites.area')} `, this.areaSelect), this.list];
    if (canEdit()) parts.push(this.#siteForm());
    parts.push(el('div', { className: 'list-head' }, this.contactsTitle, this.contactsLink),
      el('p', { className: 'muted', textContent: t('contacts.note') }), this.contacts);
    if (canEdit()) parts.push(this.#contactForm());
    this.root.replaceChildren(...parts);
    this.root.classList.add('sites-panel');
    this.#pressLevel();
    this.#links();
    if (this.#shown()) await this.refresh();
  }

  #setLevel(level) {
    if (this.level === level) return;
    this.level = level;
    this.#pressLevel();
    this.#syncForm();
    this.refresh();
  }

  #pressLevel() {
    for (const b of this.levelButtons) b.setAttribute('aria-pressed', String(b.dataset.level === this.level));
  }

  #syncForm() {
    if (this.formLevel) this.formLevel.value = this.level;
    if (this.formTitle) this.formTitle.textContent = t('sites.add.title', { y: this.year });
  }

  #query(code, extra = {}) {
    const q = new URLSearchParams({ level: this.level, year: String(this.year), ...extra });
    if (code) q.set('area', code);
    return q;
  }

  #links() {
    this.sitesLink.href = `/api/sites?${this.#query(this.area, { format: 'xlsx' })}`;
    const q = new URLSearchParams({ format: 'xlsx' });
    if (this.area) q.set('area', this.area);
    this.contactsLink.href = `/api/contact-points?${q}`;
  }

  /** Every area's sites and quota (one request each: a site counts for each area holding it),
   *  and the contact points of the area picked. */
  async refresh() {
    if (!this.areas) return;
    const mine = ++this.seq;
    this.stale = false;
    this.root.setAttribute('aria-busy', 'true');
    const contacts = this.#loadContacts(this.area);
    let answers;
    try {
      answers = await Promise.all(this.areas.map((a) => get(`/api/sites?${this.#query(a.code)}`)));
    } catch (e) {
      if (mine !== this.seq) return;
      this.stale = true;
      this.status.textContent = t('sites.loadError', { why: e instanceof ApiError ? e.plain : String(e?.message ?? e) });
      this.status.hidden = false;
      this.root.setAttribute('aria-busy', 'false');
      return;
    }
    if (mine !== this.seq) return;  // asked again meanwhile (another level or year)
    this.status.hidden = true;
    this.data = new Map(this.areas.map((a, i) => [a.code, answers[i]]));
    // The city and every district always; a park when it has a quota at this level and year.
    this.rows = this.areas.map((a, i) => ({ ...a, quota: answers[i].quota, count: answers[i].count }))
      .filter((r) => r.kind !== 'park' || r.quota !== null);
    this.#quotaTable();
    if (this.#shown()) this.#chart(); else this.chartPending = true;
    this.#siteList();
    this.#links();
    await contacts;
    if (mine === this.seq) this.root.setAttribute('aria-busy', 'false');
  }

  /** Another area's sites (its answer is already here) and contact points. */
  async pick(code) {
    if (code !== this.area) this.showAll = false;
    this.area = code;
    this.areaSelect.value = code;
    this.#links();
    this.#siteList();
    for (const tr of this.quota.tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.area === code);
    await this.#loadContacts(code);
  }

  async #loadContacts(code) {
    const mine = ++this.contactSeq;
    try {
      const data = await get(`/api/contact-points${code ? `?area=${encodeURIComponent(code)}` : ''}`);
      if (mine === this.contactSeq) this.#contactList(data);
    } catch (e) {
      if (mine === this.contactSeq) this.contacts.replaceChildren(el('p', { className: 'message error', textContent: refusal(e) }));
    }
  }

  #quotaTable() {
    const body = el('tbody');
    for (const r of this.rows) {
      const tr = body.insertRow();
      tr.dataset.area = r.code;
      tr.tabIndex = 0;
      if (r.code === this.area) tr.classList.add('selected');
      cell(tr, t('sites.col.name'), r.name);
      cell(tr, t('sites.col.kind'), t(`sites.kind.${r.kind}`));
      cell(tr, t('sites.col.quota'), r.quota === null ? t('sites.noQuota') : String(r.quota), 'num quota');
      cell(tr, t('sites.col.count'), String(r.count), 'num count');
      const rate = cell(tr, t('sites.col.rate'), r.quota ? percent(r.count / r.quota) : '—', 'num rate');
      if (r.quota !== null && r.count > r.quota) {
        rate.classList.add('over');
        rate.append(el('small', { textContent: t('sites.over', { n: r.count - r.quota }) }));
      } else if (r.quota) {
        rate.classList.add(r.count >= r.quota ? 'met' : 'behind');
      }
      tr.addEventListener('click', () => this.pick(r.code));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.pick(r.code); });
    }
    this.quota.tBodies[0].replaceWith(body);
  }

  /** Designated against quota, one bar pair per area: the quota behind in grey, the sites over
   *  it (orange when past the quota, which is allowed). A bar picks its area. */
  #chart() {
    this.chartPending = false;
    // Only areas with a quota: the city's county-level total has none, and its bar would flatten
    // every other (the table lists it).
    const rows = this.rows.filter((r) => r.quota !== null);
    this.chartRows = rows;
    this.chartBox.hidden = !rows.length;
    this.noQuotas.hidden = rows.length > 0;
    if (!rows.length) return;
    this.chartBox.style.height = `${Math.max(160, rows.length * 30 + 50)}px`;
    const chart = echarts.getInstanceByDom(this.chartBox)
      ?? echarts.init(this.chartBox, null, { renderer: 'canvas', locale: language() === 'zh' ? 'ZH' : 'EN' });
    chart.setOption({
      grid: { left: 8, right: 56, top: 24, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { fontSize: 11 }, data: [t('sites.series.quota'), t('sites.series.count')] },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, renderMode: 'richText' },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name), axisLabel: { width: 140, overflow: 'truncate', fontSize: 11 } },
      series: [
        { name: t('sites.series.quota'), type: 'bar', barWidth: 14, barGap: '-100%', itemStyle: { color: COLOR.quota },
          data: rows.map((r) => r.quota) },
        { name: t('sites.series.count'), type: 'bar', barWidth: 14, z: 3, itemStyle: { color: COLOR.count },
          data: rows.map((r) => (r.count > r.quota ? { value: r.count, itemStyle: { color: COLOR.over } } : { value: r.count })),
          label: { show: true, position: 'right', fontSize: 11, formatter: (p) => `${rows[p.dataIndex].count} / ${rows[p.dataIndex].quota}` } },
      ],
      aria: { enabled: true },
    }, true);
    if (!this.chartWired) {
      this.chartWired = true;
      chart.on('click', (p) => { const r = this.chartRows[p.dataIndex]; if (r) this.pick(r.code); });
      new ResizeObserver(() => chart.resize()).observe(this.chartBox);
    }
  }

  #siteList() {
    const d = this.data?.get(this.area);
    if (!d) return;
    const name = this.areas.find((a) => a.code === this.area)?.name ?? d.area_name;
    this.listTitle.textContent = t('sites.listTitle', { area: name, level: t(`sites.level.${this.level}`), year: this.year, n: d.count });
    if (!d.items.length) {
      this.list.replaceChildren(el('p', { className: 'muted', textContent: t('sites.none') }));
      return;
    }
    const edit = canEdit();
    const cols = [[t('sites.col.org')], [t('sites.col.branch')], [t('sites.col.district')], [t('sites.col.since')]];
    if (edit) cols.push([t('sites.col.actions')]);
    const tb = table('sites', cols);
    // Newest first; a long list (the city's) shows its first rows until asked for all.
    const items = [...d.items].sort((a, b) => b.since.localeCompare(a.since) || b.id - a.id);
    const shown = this.showAll ? items : items.slice(0, FIRST_ROWS);
    for (const s of shown) {
      const tr = tb.tBodies[0].insertRow();
      tr.dataset.site = String(s.id);
      tr.dataset.org = s.org;
      cell(tr, t('sites.col.org'), s.org_name, 'lead');
      cell(tr, t('sites.col.branch'), s.branch_name || '—');
      cell(tr, t('sites.col.district'), s.area_name || '—');
      cell(tr, t('sites.col.since'), s.since, 'since');
      if (edit) {
        const b = el('button', { type: 'button', className: 'secondary', textContent: t('sites.remove') });
        b.dataset.action = 'remove-site';
        b.addEventListener('click', () => this.#removeSite(s));
        cell(tr, t('sites.col.actions'), b, 'actions');
      }
    }
    this.list.replaceChildren(tb);
    if (shown.length < items.length) {
      const more = el('button', { type: 'button', className: 'linkish more', textContent: t('sites.showAll', { n: items.length }) });
      more.dataset.action = 'show-all-sites';
      more.addEventListener('click', () => { this.showAll = true; this.#siteList(); });
      this.list.append(more);
    }
  }

  async #removeSite(s) {
    const level = t(`sites.level.${s.level}`);
    if (!(await confirmAction(t('sites.removeConfirm', { org: s.org_name, level, year: s.year })))) return;
    try {
      await request('DELETE', `/api/sites/${seg(s.id)}`);
    } catch (e) {
      toast(refusal(e), { error: true });
      await this.refresh();
      return;
    }
    toastWithUndo(t('sites.removed', { org: s.org_name }), async () => {
      try {
        await request('POST', '/api/sites', { body: { org: s.org, level: s.level, year: s.year } });
        toast(t('sites.readded', { org: s.org_name, level }));
      } catch (e) {
        toast(t('undo.refused', { why: refusal(e) }), { error: true });
      }
      await this.refresh();
    });
    await this.refresh();
  }

  #siteForm() {
    const picker = orgPicker('site', (o) => (o.state === 'branch' ? null : o.state === 'inactive' ? t('sites.inactive') : t('sites.noBranch')));
    this.formLevel = select('level', LEVELS.map((l) => [l, t(`sites.level.${l}`)]));
    this.formLevel.value = this.level;
    this.formTitle = el('h3', { textContent: t('sites.add.title', { y: this.year }) });
    const submit = el('button', { type: 'submit', className: 'primary', textContent: t('sites.add.submit') });
    const msg = el('p', { className: 'message error', hidden: true });
    msg.setAttribute('role', 'alert');
    const form = el('form', { className: 'export site-form', noValidate: true }, el('div', { className: 'field' }, el('span', { textContent: t('sites.add.org') }), picker.root),
      el('label', {}, t('sites.level'), this.formLevel), submit, msg, el('p', { className: 'muted', textContent: t('sites.hint') }));
    form.dataset.form = 'site';
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.hidden = true;
      const o = picker.value();
      if (!o) { msg.textContent = t('sites.pick.first'); msg.hidden = false; return; }
      const level = this.formLevel.value;
      const year = this.year;
      submit.disabled = true;
      let data;
      try {
        ({ data } = await request('POST', '/api/sites', { body: { org: o.id, level, year } }));
      } catch (err) {
        msg.textContent = t('sites.refused', { why: refusal(err) });
        msg.hidden = false;
        return;
      } finally {
        submit.disabled = false;
      }
      picker.clear();
      toastWithUndo(t('sites.added', { org: o.name, level: t(`sites.level.${level}`) }), async () => {
        try {
          await request('DELETE', `/api/sites/${seg(data.id)}`);
          toast(t('undo.done'));
        } catch (err) {
          toast(t('undo.refused', { why: refusal(err) }), { error: true });
        }
        await this.refresh();
      });
      if (level !== this.level) this.#setLevel(level); else await this.refresh();
    });
    return el('section', { className: 'site-add' }, this.formTitle, form);
  }

  #contactList(data) {
    const name = this.areas.find((a) => a.code === this.area)?.name ?? '';
    this.contactsTitle.textContent = t('contacts.title', { area: name, n: data.count });
    if (!data.items.length) {
      this.contacts.replaceChildren(el('p', { className: 'muted', textContent: t('contacts.none') }));
      return;
    }
    const edit = canEdit();
    const cols = ['leader', 'post', 'org', 'district', 'liaison', 'since', 'state'].map((k) => [t(`contacts.col.${k}`)]);
    if (edit) cols.push([t('sites.col.actions')]);
    const tb = table('contacts', cols);
    for (const p of data.items) {
      const tr = tb.tBodies[0].insertRow();
      tr.dataset.contact = String(p.id);
      tr.dataset.isSite = String(p.is_site);
      cell(tr, t('contacts.col.leader'), p.leader, 'lead');
      cell(tr, t('contacts.col.post'), p.post, 'post');
      cell(tr, t('contacts.col.org'), p.org_name);
      cell(tr, t('contacts.col.district'), p.area_name || '—');
      cell(tr, t('contacts.col.liaison'), p.liaison || '—');
      cell(tr, t('contacts.col.since'), p.since);
      cell(tr, t('contacts.col.state'), el('span', { className: `badge ${p.is_site ? 'match' : 'pending'}`, textContent: t(p.is_site ? 'contacts.isSite' : 'contacts.notSite') }), 'state');
      if (edit) {
        const b = el('button', { type: 'button', className: 'secondary', textContent: t('contacts.remove') });
        b.dataset.action = 'remove-contact';
        b.addEventListener('click', () => this.#removeContact(p));
        cell(tr, t('sites.col.actions'), b, 'actions');
      }
    }
    this.contacts.replaceChildren(tb);
  }

  async #removeContact(p) {
    if (!(await confirmAction(t('contacts.removeConfirm', { post: p.post, leader: p.leader, org: p.org_name })))) return;
    try {
      await request('DELETE', `/api/contact-points/${seg(p.id)}`);
    } catch (e) {
      toast(refusal(e), { error: true });
      await this.refresh();
      return;
    }
    toastWithUndo(t('contacts.removed', { leader: p.leader, org: p.org_name }), async () => {
      try {
        await request('POST', '/api/contact-points', { body: { leader: p.leader, post: p.post, org: p.org, liaison: p.liaison } });
        toast(t('undo.done'));
      } catch (e) {
        toast(t('undo.refused', { why: refusal(e) }), { error: true });
      }
      await this.refresh();
    });
    await this.refresh();
  }

  #contactForm() {
    const leader = el('input', { type: 'text', name: 'leader', required: true, maxLength: 50, autocomplete: 'off' });
    const post = el('input', { type: 'text', name: 'post', required: true, maxLength: 100, autocomplete: 'off' });
    const liaison = el('input', { type: 'text', name: 'liaison', maxLength: 100, autocomplete: 'off' });
    const picker = orgPicker('contact', (o) => (o.state === 'inactive' ? t('sites.inactive') : null));
    const submit = el('button', { type: 'submit', className: 'primary', textContent: t('contacts.add.submit') });
    const msg = el('p', { className: 'message error', hidden: true });
    msg.setAttribute('role', 'alert');
    const form = el('form', { className: 'export contact-form', noValidate: true }, el('label', {}, t('contacts.col.leader'), leader),
      el('label', {}, t('contacts.col.post'), post), el('div', { className: 'field' }, el('span', { textContent: t('contacts.col.org') }), picker.root),
      el('label', {}, t('contacts.col.liaison'), liaison), submit, msg);
    form.dataset.form = 'contact';
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.hidden = true;
      const o = picker.value();
      if (!leader.value.trim() || !post.value.trim() || !o) { msg.textContent = t('contacts.missing'); msg.hidden = false; return; }
      const body = { leader: leader.value.trim(), post: post.value.trim(), org: o.id, liaison: liaison.value.trim() };
      submit.disabled = true;
      let data;
      try {
        ({ data } = await request('POST', '/api/contact-points', { body }));
      } catch (err) {
        msg.textContent = t('contacts.refused', { why: refusal(err) });
        msg.hidden = false;
        return;
      } finally {
        submit.disabled = false;
      }
      form.reset();
      picker.clear();
      toastWithUndo(t('contacts.added', { post: body.post, leader: body.leader, org: o.name }), async () => {
        try {
          await request('DELETE', `/api/contact-points/${seg(data.id)}`);
          toast(t('undo.done'));
        } catch (err) {
          toast(t('undo.refused', { why: refusal(err) }), { error: true });
        }
        await this.refresh();
      });
      await this.refresh();
    });
    return el('section', { className: 'contact-add' }, el('h3', { textContent: t('contacts.add.title') }), form);
  }
}
