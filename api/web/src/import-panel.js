// Import of the registry's list of organizations, for the administrator: an Excel (.xlsx) or CSV
// file dropped here (or picked) goes up as a dry run first, with its upload's progress; the
// server's comparison with today's data is shown (added, changed field by field, deregistered,
// rows it cannot read); only 确认导入 writes it, as one change the toast can undo.
import { ApiError, upload } from './api.js';
import { el } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';
import { confirmAction, toast } from './undo.js';

const FORMATS = { xlsx: 'xlsx', csv: 'csv' };
const SHOWN = 100;  // entries of a group shown before 显示全部

/** The file's format by its name's ending, or null. */
function formatOf(file) {
  const ext = file.name.toLowerCase().split('.').pop();
  return FORMATS[ext] ?? null;
}

function size(bytes) {
  if (bytes < 1024) return t('import.bytes', { n: bytes });
  if (bytes < 1024 * 1024) return t('import.kb', { n: (bytes / 1024).toFixed(0) });
  return t('import.mb', { n: (bytes / 1024 / 1024).toFixed(1) });
}

/** A field's value as a planner reads it: the page's words for the known codes, 空 for none. */
function value(field, v) {
  if (v === null || v === undefined || v === '') return t('import.empty');
  for (const prefix of ['status', 'kind']) {
    if (field === prefix || field === `org.${prefix}`) {
      const key = `${prefix}.${v}`;
      if (t(key) !== key) return t(key);
    }
  }
  if (typeof v === 'boolean') return t(v ? 'import.yes' : 'import.no');
  return String(v);
}

/** "line 6", "row 6", "6": 第 6 行; anything else as it is. */
function where(w) {
  const m = /(\d+)/.exec(String(w ?? ''));
  return m ? t('import.row', { n: m[1] }) : String(w ?? '');
}

export class ImportPanel {
  constructor(root) {
    this.root = root;
    this.file = null;
    this.asked = 0;  // the last upload: an older answer is not shown
    state.on('role', () => this.load());
  }

  load() {
    const admin = state.get('role') === 'admin';
    this.root.hidden = !admin;
    if (!admin) { this.root.replaceChildren(); return; }
    if (this.zone) return;
    this.picker = el('input', { type: 'file', accept: '.xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv', hidden: true });
    this.picker.dataset.action = 'import-file';
    this.picker.addEventListener('change', () => { if (this.picker.files[0]) this.#take(this.picker.files[0]); this.picker.value = ''; });
    const pick = el('button', { type: 'button', className: 'secondary', textContent: t('import.pick') });
    pick.dataset.action = 'import-pick';
    pick.addEventListener('click', () => this.picker.click());
    this.zone = el('div', { className: 'drop-zone' },
      el('strong', { textContent: t('import.drop') }), el('span', { className: 'muted', textContent: t('import.or') }), pick, this.picker);
    this.zone.dataset.drop = 'orgs';
    this.zone.addEventListener('dragenter', (e) => { e.preventDefault(); this.zone.classList.add('over'); });
    this.zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; this.zone.classList.add('over'); });
    this.zone.addEventListener('dragleave', (e) => { if (!this.zone.contains(e.relatedTarget)) this.zone.classList.remove('over'); });
    this.zone.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      this.zone.classList.remove('over');
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length > 1) return this.#error(t('import.oneFile'));
      if (files[0]) this.#take(files[0]);
    });
    // A file let go beside the zone would make the browser open it in place of the page.
    for (const type of ['dragover', 'drop']) {
      window.addEventListener(type, (e) => { if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault(); });
    }
    this.missing = el('input', { type: 'checkbox', name: 'missing' });
    this.missing.addEventListener('change', () => { if (this.file && !this.committing) this.#dryRun(); });
    this.status = el('div', { className: 'import-status', hidden: true });
    this.status.setAttribute('role', 'status');
    this.errorBox = el('p', { className: 'message error', hidden: true });
    this.errorBox.setAttribute('role', 'alert');
    this.preview = el('div', { className: 'import-preview' });
    this.preview.setAttribute('aria-live', 'polite');
    this.root.replaceChildren(el('h2', { textContent: t('import.title') }),
      el('p', { className: 'muted', textContent: t('import.help') }),
      el('label', { className: 'import-option' }, this.missing, ' ', t('import.missing')),
      this.zone, this.status, this.errorBox, this.preview);
  }

  /** A file chosen or dropped: checked by its name, then compared (dry run). */
  #take(file) {
    if (this.committing) return;  // the import under way answers first
    this.preview.replaceChildren();
    if (!formatOf(file)) {
      this.file = null;
      this.status.hidden = true;
      return this.#error(t(/\.xls$/i.test(file.name) ? 'import.oldExcel' : 'import.badType', { name: file.name }));
    }
    if (file.size === 0) {
      this.file = null;
      return this.#error(t('import.emptyFile', { name: file.name }));
    }
    this.file = file;
    this.#dryRun();
  }

  #error(text) {
    this.errorBox.textContent = text;
    this.errorBox.hidden = !text;
  }

  #query(dryRun) {
    const q = new URLSearchParams({ format: formatOf(this.file) });
    if (dryRun) q.set('dry_run', 'true');
    q.set('skip_bad', 'true');
    if (this.missing.checked) q.set('missing', 'deregister');
    return q;
  }

  /** The upload's progress, then the server's work (its length unknown). */
  #progress(file, phase, sent = 0, total = 0) {
    const bar = el('progress', { max: 100 });
    let text;
    if (phase === 'upload') {
      bar.value = total ? Math.round((sent / total) * 100) : 0;
      text = t('import.uploading', { pct: total ? Math.round((sent / total) * 100) : 0 });
    } else {
      bar.removeAttribute('value');  // indeterminate: the server says nothing until it is done
      text = t(phase === 'commit' ? 'import.writing' : 'import.comparing');
    }
    this.status.dataset.phase = phase;
    this.status.replaceChildren(el('span', { className: 'file', textContent: `${file.name} · ${size(file.size)}` }), bar, el('span', { textContent: text }));
    this.status.hidden = false;
  }

  async #send(dryRun) {
    const file = this.file;
    const asked = ++this.asked;
    this.#error('');
    this.zone.setAttribute('aria-busy', 'true');
    this.#progress(file, 'upload');
    try {
      const { data } = await upload(`/api/import/orgs?${this.#query(dryRun)}`, file, {
        onProgress: (sent, total) => { if (asked === this.asked) this.#progress(file, 'upload', sent, total); },
        onSent: () => { if (asked === this.asked) this.#progress(file, dryRun ? 'compare' : 'commit'); },
      });
      return asked === this.asked ? data : null;
    } catch (e) {
      if (asked !== this.asked) return null;
      this.status.hidden = true;
      this.#error(this.#plain(e));
      return null;
    } finally {
      if (asked === this.asked) this.zone.setAttribute('aria-busy', 'false');
    }
  }

  /** An error in words: the server's messages on a file are English, the page's are not. */
  #plain(e) {
    if (!(e instanceof ApiError)) return String(e?.message ?? e);
    if (e.status === 400) return t('import.unreadable', { name: this.file?.name ?? '' });
    if (e.status === 413) return t('import.tooLarge', { name: this.file?.name ?? '' });
    if (e.status === 503) return t('import.busy');
    if (e.status === 409) return t('import.conflict');
    return e.plain;
  }

  async #dryRun() {
    this.preview.replaceChildren();
    const report = await this.#send(true);
    if (!report) return;
    this.status.hidden = true;
    this.#show(report);
    // The comparison where the eyes are: brought up when it begins below the screen's bottom.
    if (this.preview.getBoundingClientRect().top > innerHeight - 160) this.preview.scrollIntoView({ block: 'start' });
  }

  /** The comparison: counts, then the changed, added and deregistered organizations and the
   *  rows not read, then 确认导入. */
  #show(r) {
    const total = r.total ?? r.summary ?? {};
    const rejected = r.rejected ?? [];
    const diff = r.diff ?? [];
    const counts = { added: total.added ?? 0, updated: total.updated ?? 0, deregistered: total.deregistered ?? 0, rejected: rejected.length };
    const kpis = el('div', { className: 'kpis import-counts' });
    for (const k of ['added', 'updated', 'deregistered', 'rejected']) {
      const d = el('div', { className: `kpi${k === 'rejected' && counts[k] ? ' bad' : ''}` }, el('b', { textContent: String(counts[k]) }), el('span', { textContent: t(`import.count.${k}`) }));
      d.dataset.count = k;
      kpis.append(d);
    }
    const parts = [el('h3', { textContent: t('import.previewTitle', { name: this.file.name }) }), kpis];
    if (total.unchanged !== undefined) parts.push(el('p', { className: 'muted', textContent: t('import.unchanged', { n: total.unchanged }) }));
    const warnings = [];
    if (r.duplicate_credit_codes?.length) warnings.push(t('import.warn.duplicate', { n: r.duplicate_credit_codes.length }));
    if (r.invalid_credit_codes?.length) warnings.push(t('import.warn.invalid', { n: r.invalid_credit_codes.length }));
    if (r.outside_grid?.length) warnings.push(t('import.warn.outside', { n: r.outside_grid.length }));
    if (warnings.length) parts.push(el('p', { className: 'message', textContent: warnings.join('；') }));

    const byKind = { updated: [], added: [], deregistered: [] };
    for (const d of diff) byKind[d.kind]?.push(d);
    parts.push(this.#group('updated', byKind.updated, counts.updated, (d) => {
      const li = el('li', {}, this.#name(d));
      const ul = el('ul', { className: 'fields' });
      for (const c of d.changes ?? []) {
        const f = el('li', {}, el('span', { className: 'field', textContent: `${c.field_zh || t('import.field')}：` }),
          el('del', { textContent: value(c.field, c.before) }), ' → ', el('ins', { textContent: value(c.field, c.after) }));
        f.dataset.field = c.field;
        ul.append(f);
      }
      li.append(ul);
      return li;
    }));
    parts.push(this.#group('added', byKind.added, counts.added, (d) => el('li', {}, this.#name(d))));
    parts.push(this.#group('deregistered', byKind.deregistered, counts.deregistered, (d) => el('li', {}, this.#name(d))));
    parts.push(this.#group('rejected', rejected, rejected.length, (x) => {
      const li = el('li', {}, el('b', { textContent: x.where_zh || where(x.where) }), '：', x.reason_zh || t('import.badRow'));
      return li;
    }));
    if (r.diff_more) parts.push(el('p', { className: 'muted', textContent: t('import.more', { n: r.diff_more }) }));

    const changes = counts.added + counts.updated + counts.deregistered;
    const go = el('button', { type: 'button', className: 'primary', textContent: t('import.confirm'), disabled: changes === 0 });
    go.dataset.action = 'import-confirm';
    go.addEventListener('click', () => this.#commit(counts));
    const cancel = el('button', { type: 'button', className: 'secondary', textContent: t('import.cancel') });
    cancel.dataset.action = 'import-cancel';
    cancel.addEventListener('click', () => { this.file = null; this.preview.replaceChildren(); this.status.hidden = true; });
    if (!changes) parts.push(el('p', { className: 'message', textContent: counts.rejected ? t('import.nothingButErrors', { n: counts.rejected }) : t('import.nothing') }));
    else if (counts.rejected) parts.push(el('p', { className: 'muted', textContent: t('import.skipNote', { n: counts.rejected }) }));
    parts.push(el('div', { className: 'actions' }, go, ' ', cancel));
    this.preview.replaceChildren(...parts);
  }

  /** A list under its title (folded when long), the first SHOWN entries, then 显示全部. */
  #group(kind, items, count, row) {
    const box = el('details', { className: `import-group ${kind}`, open: items.length > 0 && items.length <= 30 });
    box.dataset.group = kind;
    box.append(el('summary', { textContent: t(`import.group.${kind}`, { n: count }) }));
    if (!items.length) {
      box.hidden = !count;  // nothing of the kind: its count above says so
      box.append(el('p', { className: 'muted', textContent: count ? t('import.notListed') : t('import.none') }));
      return box;
    }
    const ul = el('ul', { className: 'plain' });
    const fill = (n) => ul.replaceChildren(...items.slice(0, n).map(row));
    fill(SHOWN);
    box.append(ul);
    if (items.length > SHOWN) {
      const all = el('button', { type: 'button', className: 'linkish', textContent: t('import.showAll', { n: items.length }) });
      all.addEventListener('click', () => { fill(items.length); all.remove(); });
      box.append(all);
    }
    return box;
  }

  /** An organization's name first, its number after; a known one opens its card. */
  #name(d) {
    const id = el('small', { className: 'muted', textContent: ` ${t('import.id', { id: d.id })}` });
    if (d.kind === 'added') return el('span', {}, el('span', { textContent: d.name || t('import.noName') }), id);
    const b = el('button', { type: 'button', className: 'linkish', textContent: d.name || t('import.noName') });
    b.addEventListener('click', () => state.set('org', d.id));
    const span = el('span', {}, b, id);
    span.dataset.org = d.id;
    return span;
  }

  async #commit(counts) {
    const skip = counts.rejected ? t('import.confirmSkip', { n: counts.rejected }) : '';
    const ok = await confirmAction(t('import.confirmText', { name: this.file.name, ...counts, skip }), t('import.confirm'));
    if (!ok) return;
    // Nothing else is compared while the import is written (its answer is the one shown).
    this.committing = true;
    this.missing.disabled = true;
    for (const b of this.root.querySelectorAll('button')) b.disabled = true;
    let report;
    try {
      report = await this.#send(false);
    } finally {
      this.committing = false;
      this.missing.disabled = false;
      for (const b of this.root.querySelectorAll('button')) b.disabled = false;
    }
    if (!report) return;
    const total = report.total ?? report.summary ?? {};
    const text = t('import.done', { added: total.added ?? 0, updated: total.updated ?? 0, deregistered: total.deregistered ?? 0 });
    this.status.hidden = true;
    this.file = null;
    this.preview.replaceChildren(el('p', { className: 'message done', textContent: report.change_id ? text : t('import.nothing') }));
    toast(report.change_id ? text : t('import.nothing'), { changeId: report.change_id ?? null });
    if (report.change_id) state.changed();
  }
}
