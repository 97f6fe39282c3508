// The monthly report (月报): the coverage trend of the whole or of the selected area with its
// targets, and the report itself as PDF or Excel, downloaded through a plain link (the session
// cookie authorizes it).
import * as echarts from '../vendor/echarts-6.1.0/echarts.esm.min.mjs';
import { get, request } from './api.js';
import { el, select } from './dom.js';
import { percent, t } from './i18n.js';
import { state } from './state.js';
import { confirmAction, toast } from './undo.js';


const SERIES = [['org_coverage', 'cov.org', '#08519c'], ['work_coverage', 'cov.work', '#6baed6'], ['instructor_coverage', 'cov.instructor', '#969696']];

export class ReportPanel {
  constructor(root) {
    this.root = root;
    state.on('area', () => this.trend());
    state.on('tileVersion', () => this.trend());
  }

  async load() {
    const [districts, streets, parks] = await Promise.all([get('/api/areas?level=district&limit=100'),
      get('/api/areas?level=street&limit=500'), get('/api/areas?level=park&limit=100')]);
    const now = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 7);  // this month in China
    // Only the periods a report can be made of: this month (from the data now) and the months
    // that have a snapshot.
    const history = await get('/api/history');
    const months = [...new Set([now, ...history.points.map((p) => p.date.slice(0, 7))])].sort().reverse();
    const quarters = [...new Set(months.map((m) => `${m.slice(0, 4)}-Q${Math.ceil(Number(m.slice(5, 7)) / 3)}`))];
    const kind = select('kind', [['month', t('report.month')], ['quarter', t('report.quarter')]]);
    const month = select('month', months.map((m) => [m, t('report.monthName', { y: m.slice(0, 4), m: Number(m.slice(5, 7)) })]));
    const quarter = select('quarter', quarters.map((q) => [q, t('report.quarterName', { y: q.slice(0, 4), q: q.slice(6) })]));
    quarter.hidden = true;
    const area = select('area', [['', t('report.all')], ...districts.items.map((a) => [a.code, `${t('level.district')} ${a.name}`]),
      ...parks.items.map((a) => [a.code, `${t('level.park')} ${a.name}`]), ...streets.items.map((a) => [a.code, `${a.name} (${a.code})`])]);
    const format = select('format', [['pdf', 'PDF'], ['xlsx', 'Excel (xlsx)']]);
    this.link = el('a', { className: 'primary', textContent: t('report.download') });
    this.link.dataset.action = 'report';
    const sync = () => {
      month.hidden = kind.value !== 'month';
      quarter.hidden = kind.value !== 'quarter';
      const q = new URLSearchParams({ format: format.value });
      q.set(kind.value, kind.value === 'month' ? month.value : quarter.value);
      if (area.value) q.set('area', area.value);
      this.link.href = `/api/report?${q}`;
      this.link.download = `covermap-report-${q.get(kind.value)}${area.value ? `-${area.value}` : ''}.${format.value}`;
    };
    // A report the server cannot make is said here, in words, not shown as a JSON page: the
    // link is checked first (HEAD), then followed.
    this.link.addEventListener('click', async (e) => {
      if (this.link.dataset.checked === 'yes') { delete this.link.dataset.checked; return; }
      e.preventDefault();
      this.error.hidden = true;
      let res;
      try { res = await fetch(this.link.href, { method: 'HEAD', credentials: 'same-origin' }); } catch { res = { ok: false, status: 0 }; }
      if (res.ok) {
        this.link.dataset.checked = 'yes';
        this.link.click();
        return;
      }
      this.error.textContent = t(res.status === 0 ? 'err.network' : res.status === 503 ? 'report.busy' : 'report.cannot');
      this.error.hidden = false;
    });
    this.error = el('p', { className: 'message error', hidden: true });
    this.error.setAttribute('role', 'alert');
    const form = el('form', { className: 'export report' }, el('label', {}, t('report.period'), kind, month, quarter),
      el('label', {}, t('report.area'), area), el('label', {}, t('export.format'), format), this.link, this.error,
      el('p', { className: 'muted', textContent: t('report.note') }));
    this.areaOptions = [['', t('report.all')], ...districts.items.map((a) => [a.code, `${t('level.district')} ${a.name}`]),
      ...parks.items.map((a) => [a.code, `${t('level.park')} ${a.name}`]), ...streets.items.map((a) => [a.code, a.name])];
    this.areaNames = new Map(this.areaOptions);
    form.addEventListener('change', sync);
    form.addEventListener('input', sync);
    sync();
    this.title = el('h3');
    this.chart = el('div', { className: 'chart trend' });
    this.targets = el('ul', { className: 'plain targets' });
    const whole = el('button', { type: 'button', className: 'linkish', textContent: t('report.whole') });
    whole.addEventListener('click', () => state.set('area', null));
    this.manage = el('section', { className: 'targets-admin' });
    this.root.replaceChildren(el('h2', { textContent: t('report.title') }), form, this.title, whole, this.chart, this.targets, this.manage);
    await this.trend();
    await this.#targets();
  }

  /** Every target, and for admins a form to set one (the rules of `covermap target set`) and 删除. */
  async #targets() {
    const admin = state.get('role') === 'admin';
    const list = (await get('/api/targets')).items;
    const ul = el('ul', { className: 'plain' });
    for (const x of list) {
      const where = x.area ? this.areaNames.get(x.area) ?? x.area : x.level === 'total' ? t('report.all') : t('report.everyLevel', { level: t(`level.${x.level}`) });
      const value = x.baseline ? t('report.factor', { f: x.value, date: x.baseline }) : percent(x.value);
      const li = el('li', { textContent: `${t(`metric.${x.metric}`)} · ${t(`scope.${x.scope}`)} · ${where}：${value}，${t('report.by', { date: x.deadline })}${x.note ? `（${x.note}）` : ''}` });
      li.dataset.target = x.id;
      if (admin) {
        const del = el('button', { type: 'button', className: 'link', textContent: t('report.remove') });
        del.addEventListener('click', async () => {
          if (!(await confirmAction(t('report.removeConfirm')))) return;
          try { await request('DELETE', `/api/targets/${encodeURIComponent(x.id)}`); } catch (e) { toast(e.plain ?? String(e), { error: true }); }
          state.changed();
          await this.#targets();
        });
        li.append(' ', del);
      }
      ul.append(li);
    }
    const parts = [el('h3', { textContent: t('report.allTargets') }), list.length ? ul : el('p', { className: 'muted', textContent: t('report.noTargetsYet') })];
    if (admin) {
      const metric = select('metric', ['org_coverage', 'standalone_rate', 'work_coverage', 'instructor_coverage', 'member_rate'].map((m) => [m, t(`metric.${m}`)]));
      const scope = select('scope', ['all', 'enterprise', 'social', 'above_scale', 'employees50'].map((m) => [m, t(`scope.${m}`)]));
      const area = select('area', this.areaOptions);
      const value = el('input', { type: 'number', name: 'value', min: 0, max: 100, step: 0.1, value: 90, required: true });
      const deadline = el('input', { type: 'date', name: 'deadline', required: true, value: `${new Date().getFullYear()}-12-31` });
      const note = el('input', { type: 'text', name: 'note', maxLength: 200 });
      const save = el('button', { type: 'submit', className: 'primary', textContent: t('report.addTarget') });
      const msg = el('p', { className: 'message', hidden: true });
      const form = el('form', { className: 'export target-form' }, el('label', {}, t('report.metric'), metric), el('label', {}, t('report.scope'), scope),
        el('label', {}, t('report.area'), area), el('label', {}, t('report.goalPercent'), value), el('label', {}, t('report.deadline'), deadline),
        el('label', {}, t('report.noteLabel'), note), save, msg);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const body = { metric: metric.value, scope: scope.value, value: Number(value.value) / 100, deadline: deadline.value, note: note.value };
        if (area.value) body.area = area.value;
        try {
          await request('POST', '/api/targets', { body });
          state.changed();
          await this.#targets();
        } catch (err) {
          msg.className = 'message error';
          msg.textContent = err.status === 400 ? t('report.badTarget', { why: err.message }) : err.plain ?? String(err);
          msg.hidden = false;
        }
      });
      parts.push(el('h3', { textContent: t('report.setTarget') }), form);
    }
    this.manage.replaceChildren(...parts);
  }

  async trend() {
    if (!this.chart) return;
    const code = state.get('area');
    const h = await get(`/api/history${code ? `?area=${encodeURIComponent(code)}` : ''}`);
    this.title.textContent = t('report.trend', { name: code ? h.name : t('report.all') });
    const points = [...h.points.filter((p) => p.date < h.now.date), h.now];
    const chart = echarts.getInstanceByDom(this.chart) ?? echarts.init(this.chart, null, { renderer: 'canvas' });
    const goal = h.targets.find((x) => x.metric === 'org_coverage');
    chart.setOption({
      grid: { left: 40, right: 16, top: 30, bottom: 40 },
      legend: { top: 0, textStyle: { fontSize: 11 } },
      tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: (v) => `${v} %` },
      xAxis: { type: 'category', data: points.map((p) => (p === h.now ? `${p.date} ${t('report.now')}` : p.date)) },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: SERIES.map(([key, label, color], i) => ({
        name: t(label), type: 'line', data: points.map((p) => +(p[key] * 100).toFixed(1)), itemStyle: { color }, symbolSize: 6,
        ...(i === 0 && goal ? { markLine: { symbol: 'none', lineStyle: { color: '#cb181d', type: 'dashed' },
          label: { position: 'insideEndTop', formatter: `${t('report.goal')} ${(goal.goal * 100).toFixed(1)}%` }, data: [{ yAxis: +(goal.goal * 100).toFixed(1) }] } } : {}),
      })),
      aria: { enabled: true },
    }, true);
    new ResizeObserver(() => chart.resize()).observe(this.chart);
    this.targets.replaceChildren(...h.targets.map((x) => {
      const now = h.now[x.metric];
      const li = el('li', { textContent: t('report.target', { metric: t(`metric.${x.metric}`), goal: percent(x.goal), now: percent(now), deadline: x.deadline }) });
      li.className = now + 0.0005 >= x.goal ? 'met' : 'behind';
      return li;
    }));
    if (!h.targets.length) this.targets.replaceChildren(el('li', { className: 'muted', textContent: t('report.noTargets') }));
  }
}
