// Coverage by park, street or community: key figures, a sortable table, a bar chart of the
// worst areas; a row zooms the map to its area and opens the area's card.
import * as echarts from '../vendor/echarts-6.1.0/echarts.esm.min.mjs';
import { ApiError, get, request, seg, token } from './api.js';
import { percent, t } from './i18n.js';
import { state } from './state.js';
import { changeLog } from './undo.js';
import { el } from './dom.js';

const PAGE = 100;  // table rows per page

/** The rows of a level live in a worker (coverage-rows.js): the page asks it, by message,
 *  for what it shows. */
class Rows {
  constructor() {
    this.worker = new Worker(new URL('./coverage-rows.js', import.meta.url), { type: 'module' });
    this.waiting = new Map();
    this.next = 0;
    this.worker.onmessage = ({ data }) => {
      const w = this.waiting.get(data.id);
      this.waiting.delete(data.id);
      if (data.error) w.reject(new ApiError(data.error.status, data.error.code, data.error.message));
      else w.resolve(data.ok);
    };
  }
  ask(message) {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }
}

const COLUMNS = [
  { key: 'name', label: 'cov.name' },
  { key: 'org_coverage', label: 'cov.org', num: true, pct: true },
  { key: 'standalone_rate', label: 'cov.standalone', num: true, pct: true },
  { key: 'work_coverage', label: 'cov.work', num: true, pct: true },
  { key: 'instructor_coverage', label: 'cov.instructor', num: true, pct: true },
  { key: 'uncovered', label: 'cov.uncovered', num: true },
];

export class ParkPanel {
  constructor(root, mapView) {
    this.root = root;
    this.mapView = mapView;
    this.sort = { key: 'org_coverage', dir: 1 };
    this.page = 0;
    this.rows = new Rows();
    this.asked = 0;  // the last page asked for: an older answer is not shown
    state.on('level', () => { this.page = 0; this.filter = ''; this.load(); });
    // A park clicked on the map, a bar of the chart, an area found by search: its card.
    state.on('areaRequest', (code) => {
      if (!code) return;
      state.set('areaRequest', null);
      this.openArea(code);
    });
    state.on('tileVersion', () => this.load());
  }

  async load() {
    const level = state.get('level');
    this.root.classList.add('loading');
    let data;
    try {
      data = await this.rows.ask({ type: 'load', level, token: token() });
    } finally {
      this.root.classList.remove('loading');
    }
    if (data.stale || state.get('level') !== level) return;  // switched again meanwhile
    this.total = data.total;
    this.worst = data.worst.reverse();
    // Organizational-coverage targets (scope all) by area code; 'total' for the whole.
    this.goals = new Map(data.targets.filter((x) => x.metric === 'org_coverage' && x.scope === 'all').map((x) => [x.area, x.goal]));
    this.render();
  }

  render() {
    const level = state.get('level');
    const { key, dir } = this.sort;
    const h = document.createElement('h2');
    h.textContent = t('cov.title', { level: t(`level.${level}`) });
    const kpis = document.createElement('div');
    kpis.className = 'kpis';
    for (const [k, v] of [['cov.org', percent(this.total.org_coverage)], ['cov.work', percent(this.total.work_coverage)],
      ['cov.operating', this.total.operating], ['cov.uncovered', this.total.operating - this.total.work_covered]]) {
      const d = document.createElement('div');
      d.className = 'kpi';
      d.dataset.kpi = k;
      const b = document.createElement('b');
      b.textContent = v;
      const s = document.createElement('span');
      s.textContent = t(k);
      d.append(b, s);
      // The two rates are different things: each says what it counts, on hover.
      const definition = { 'cov.org': 'def.org', 'cov.work': 'def.work', 'cov.uncovered': 'def.uncovered' }[k];
      if (definition) d.title = t(definition);
      if (k === 'cov.org' && this.goals.has('total')) {
        const g = document.createElement('small');
        g.className = this.total.org_coverage + 0.0005 >= this.goals.get('total') ? 'met' : 'behind';
        g.textContent = t('cov.target', { goal: percent(this.goals.get('total')) });
        d.append(g);
      }
      kpis.append(d);
    }
    const chart = document.createElement('div');
    chart.className = 'chart';
    const table = document.createElement('table');
    table.className = 'coverage';
    const head = table.createTHead().insertRow();
    for (const c of COLUMNS) {
      const th = document.createElement('th');
      if (c.num) th.className = 'num';
      th.dataset.key = c.key;
      if (c.key === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = t(c.label);
      if (c.key === 'org_coverage') th.title = t('def.org');
      if (c.key === 'work_coverage') th.title = t('def.work');
      b.addEventListener('click', () => {
        this.sort = { key: c.key, dir: this.sort.key === c.key ? -this.sort.dir : 1 };
        this.page = 0;
        this.render();
      });
      th.append(b);
      head.append(th);
    }
    this.table = table;
    const filter = el('input', { type: 'search', className: 'table-filter', placeholder: t('cov.filter'), value: this.filter ?? '' });
    filter.addEventListener('input', () => { this.filter = filter.value.trim(); this.page = 0; this.#fillTable(); });
    this.pager = el('div', { className: 'pager' });
    const hint = document.createElement('p');
    hint.className = 'muted';
    hint.textContent = t('cov.clickRow');
    this.card = document.createElement('section');
    this.card.className = 'card area-card';
    this.root.replaceChildren(h, kpis, chart, hint, this.card, filter, this.pager, table);
    this.#fillTable();
    // The chart in a task of its own: a level's work never blocks the page 200 ms at once.
    setTimeout(() => { if (chart.isConnected) this.#chart(chart, this.worst); }, 0);
  }

  /** One page of the sorted (and filtered) rows: a level of 11,000 grid cells never builds
   *  11,000 rows at once (that froze the page for seconds). */
  async #fillTable() {
    const q = this.filter ?? '';
    const asked = ++this.asked;
    const { key, dir } = this.sort;
    this.table.setAttribute('aria-busy', 'true');
    const answer = await this.rows.ask({ type: 'page', key, dir, filter: q, page: this.page ?? 0, size: PAGE });
    if (asked !== this.asked || !this.table.isConnected) return;  // asked again meanwhile
    const { rows: shown, count } = answer;
    this.page = answer.page;
    const pages = Math.max(1, Math.ceil(count / PAGE));
    const from = this.page * PAGE;
    const prev = el('button', { type: 'button', className: 'secondary', textContent: t('cov.prev'), disabled: this.page === 0 });
    prev.dataset.action = 'prev-page';
    prev.addEventListener('click', () => { this.page -= 1; this.#fillTable(); });
    const next = el('button', { type: 'button', className: 'secondary', textContent: t('cov.next'), disabled: this.page >= pages - 1 });
    next.dataset.action = 'next-page';
    next.addEventListener('click', () => { this.page += 1; this.#fillTable(); });
    const where = el('span', { textContent: count ? t('cov.rows', { from: from + 1, to: from + shown.length, n: count }) : t('search.none') });
    this.pager.replaceChildren(prev, ' ', where, ' ', next);
    this.pager.hidden = count <= PAGE && !q;
    const body = document.createElement('tbody');
    for (const r of shown) {
      const tr = body.insertRow();
      tr.tabIndex = 0;
      tr.dataset.code = r.code;
      for (const c of COLUMNS) {
        const td = tr.insertCell();
        if (c.num) td.className = 'num';
        td.textContent = c.pct ? percent(r[c.key]) : r[c.key];
        if (c.key === 'org_coverage' && this.goals.has(r.code)) {
          const g = document.createElement('small');
          g.className = r.org_coverage + 0.0005 >= this.goals.get(r.code) ? 'met' : 'behind';
          g.textContent = ` / ${percent(this.goals.get(r.code))}`;
          td.append(g);
        }
      }
      const open = () => this.openArea(r.code, tr);
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    }
    this.table.tBodies[0]?.remove();
    this.table.append(body);
    this.table.setAttribute('aria-busy', 'false');
  }

  /** The worst areas (the worker picked them): bars from the lowest rate up. */
  #chart(el, worst) {
    const c = echarts.init(el, null, { renderer: 'canvas' });
    c.setOption({
      title: { text: t('cov.chart'), textStyle: { fontSize: 12 } },
      grid: { left: 90, right: 16, top: 28, bottom: 20 },
      tooltip: { renderMode: 'richText', valueFormatter: (v) => `${v} %` },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      yAxis: { type: 'category', data: worst.map((r) => r.name), axisLabel: { width: 80, overflow: 'truncate' } },
      series: [{ type: 'bar', data: worst.map((r) => +(r.org_coverage * 100).toFixed(1)), itemStyle: { color: '#d7301f' } }],
      aria: { enabled: true },
    });
    c.on('click', (p) => { if (worst[p.dataIndex]) state.set('areaRequest', worst[p.dataIndex].code); });
    new ResizeObserver(() => c.resize()).observe(el);
  }

  /** 打印: the area's sheet (an A4 PDF the server draws, which takes a few seconds), saved
   *  as the server names it; a refusal is said under the button, not shown as a JSON page. */
  #print(a) {
    if (a.level === 'grid') return [];  // sheets are for districts, parks, streets and communities
    const button = el('button', { type: 'button', className: 'secondary print', textContent: t('area.print'), title: t('area.printTitle', { name: a.name }) });
    button.dataset.action = 'print';
    const error = el('p', { className: 'message error', hidden: true });
    error.setAttribute('role', 'alert');
    button.addEventListener('click', async () => {
      button.disabled = true;
      button.textContent = t('area.printing');
      error.hidden = true;
      try {
        const res = await request('GET', `/api/print?area=${encodeURIComponent(a.code)}`, { raw: true });
        if (!res.ok) throw new ApiError(res.status, 'Error', res.statusText);
        const blob = await res.blob();
        // Content-Disposition: attachment; filename*=UTF-8''<the Chinese name>
        const cd = res.headers.get('Content-Disposition') ?? '';
        const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
        const plain = /filename="?([^";]+)"?/i.exec(cd);
        const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : `${a.name}.pdf`;
        const url = URL.createObjectURL(blob);
        const link = el('a', { href: url, download: name, hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (e) {
        const why = e.status === 404 || e.status === 400 ? t('area.printNone') : e.status === 503 ? t('area.printBusy') : e.plain ?? String(e);
        error.textContent = t('area.printError', { why });
        error.hidden = false;
      } finally {
        button.disabled = false;
        button.textContent = t('area.print');
      }
    });
    return [button, error];
  }

  async openArea(code, row) {
    this.root.querySelectorAll('tr.selected').forEach((r) => r.classList.remove('selected'));
    row?.classList.add('selected');
    const a = await get(`/api/areas/${seg(code)}`);
    this.mapView.zoomToBox(a.bbox);
    this.mapView.outline(a.geometry);
    state.set('area', code);
    const h = document.createElement('h3');
    h.textContent = t('area.card', { name: a.name });
    const dl = document.createElement('dl');
    for (const [k, v] of [['cov.operating', a.operating], ['cov.org', percent(a.org_coverage)], ['cov.standalone', percent(a.standalone_rate)],
      ['cov.work', percent(a.work_coverage)], ['cov.instructor', percent(a.instructor_coverage)]]) {
      const dt = document.createElement('dt');
      dt.textContent = t(k);
      const dd = document.createElement('dd');
      dd.textContent = v;
      if (k === 'cov.org' && this.goals?.has(code)) {
        const g = document.createElement('small');
        g.className = a.org_coverage + 0.0005 >= this.goals.get(code) ? 'met' : 'behind';
        g.textContent = ` / ${t('cov.target', { goal: percent(this.goals.get(code)) })}`;
        dd.append(g);
      }
      dl.append(dt, dd);
    }
    const h4 = document.createElement('h3');
    h4.textContent = t('area.uncoveredList', { n: a.uncovered.length });
    const ul = document.createElement('ul');
    ul.className = 'plain';
    for (const o of a.uncovered) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'linkish';
      b.textContent = o.name;
      b.addEventListener('click', () => state.set('org', o.id));
      li.append(b);
      ul.append(li);
    }
    if (!a.uncovered.length) ul.textContent = t('area.none');
    this.card.replaceChildren(el('div', { className: 'card-head' }, h, ...this.#print(a)), dl, h4, ul, await changeLog(code));
  }
}
