// Export: layer, area, format, encoding, CRS; the file downloads through a normal link (the
// session cookie authorizes it, so no token ever appears in a URL).
import { get } from './api.js';
import { el, select } from './dom.js';
import { t } from './i18n.js';


export class ExportDialog {
  constructor(root) { this.root = root; }

  async load() {
    const [districts, streets, parks] = await Promise.all([get('/api/areas?level=district&limit=200'),
      get('/api/areas?level=street&limit=5000'), get('/api/areas?level=park&limit=500')]);
    const layer = select('layer', ['orgs', 'areas', 'instructors', 'branches', 'assignments'].map((l) => [l, t(`export.layer.${l}`)]));
    const area = select('area', [['', t('export.all')], ...districts.items.map((a) => [a.code, a.name]),
      ...parks.items.map((a) => [a.code, `${t('level.park')} ${a.name}`]), ...streets.items.map((a) => [a.code, `${a.name} (${a.code})`])]);
    const format = select('format', [['shp', 'Shapefile (zip)'], ['xlsx', 'Excel (xlsx)'], ['gpkg', 'GeoPackage'], ['geojson', 'GeoJSON'], ['csv', 'CSV'], ['csv-excel', t('export.csvExcel')]]);
    const encoding = select('encoding', [['GBK', 'GBK'], ['UTF-8', 'UTF-8']]);
    const srs = select('srs', [['EPSG:4490', 'CGCS2000 (EPSG:4490)'], ['auto-gk', t('export.srs.gk')], ['EPSG:4326', t('export.srs.wgs')]]);
    this.link = el('a', { className: 'primary', textContent: t('export.download') });
    this.link.dataset.action = 'download';
    const form = el('form', { className: 'export' },
      el('label', {}, t('export.layer'), layer), el('label', {}, t('export.area'), area), el('label', {}, t('export.format'), format),
      el('label', {}, t('export.encoding'), encoding), el('label', {}, t('export.srs'), srs), this.link,
      el('p', { className: 'muted', textContent: t('export.note') }));
    const sync = () => {
      const excel = format.value === 'csv-excel';
      const q = new URLSearchParams({ format: excel ? 'csv' : format.value, encoding: encoding.value, srs: srs.value });
      if (excel) q.set('excel', 'true');
      // Only what lies inside the area; the server names the file after what it holds
      // (银州区_组织_2026-12-06.zip), so the link sets no name of its own.
      if (area.value) q.set('area', area.value);
      this.link.href = `/api/export/${layer.value}?${q}`;
      this.link.setAttribute('download', '');
    };
    form.addEventListener('change', sync);
    sync();
    this.root.replaceChildren(el('h2', { textContent: t('export.title') }), form);
  }
}
