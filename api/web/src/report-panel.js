// The monthly report (月报): the coverage trend of the whole or of the selected area with its
// targets, and the report itself as PDF or Excel, downloaded through a plain link (the session
// cookie authorizes it).
import * as echarts from '../vendor/echarts-6.1.0/echarts.esm.min.mjs';
import { get } from './api.js';
import { el, select } from './dom.js';
import { percent, t } from './i18n.js';
import { state } from './state.js';


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
    const kind = select('kind', [['month', t('report.month')], ['quarter', t('report.quarter')]]);
    const month = el('input', { type: 'month', name: 'month', value: now, max: now });
    const year = Number(now.slice(0, 4));
    const quarter = select('quarter', [year, year - 1].flatMap((y) => [4, 3, 2, 1].map((q) => [`${y}-Q${q}`, `${y} 年第 ${q} 季度`])));
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
    const form = el('form', { className: 'export report' }, el('label', {}, t('report.period'), kind, month, quarter),
      el('label', {}, t('report.area'), area), el('label', {}, t('export.format'), format), this.link,
      el('p', { className: 'muted', textContent: t('report.note') }));
    form.addEventListener('change', sync);
    form.addEventListener('input', sync);
    sync();
    this.title = el('h3');
    this.chart = el('div', { className: 'chart trend' });
    this.targets = el('ul', { className: 'plain targets' });
    const whole = el('button', { type: 'button', className: 'linkish', textContent: t('report.whole') });
    whole.addEventListener('click', () => state.set('area', null));
    this.root.replaceChildren(el('h2', { textContent: t('report.title') }), form, this.title, whole, this.chart, this.targets);
    await this.trend();
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
