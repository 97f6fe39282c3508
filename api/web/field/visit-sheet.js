// One organization, opened from the list: record a visit in two more taps (the kind, then
// 台账无误，提交), or correct the ledger (五清台账) first. What is recorded goes to the outbox,
// which sends it now or when the phone is back online. A conflict reopens here with the
// server's fresh record and the instructor's own entries beside it.
import { el } from './dom.js';
import { state } from './state.js';
import { say } from './status.js';
import {
  LEDGER_FIELDS, STATE_NAMES, VISIT_KINDS, chinaTime, chinaToday, chineseOrNull, conflictText, ledgerValue, measureLabel,
  verifiedText,
} from './text.js';

const HISTORY_ROWS = 5;

/** The list's `state` of a full record (the server's rule: inactive, branch, instructor). */
const stateOf = (r) => (r.status && r.status !== 'operating' ? 'inactive' : r.branch_id ? 'branch' : r.instructor_id ? 'instructor' : 'uncovered');

export class VisitSheet {
  #root;
  #records;
  #outbox;
  #seq = 0;          // the open sheet; answers for an earlier one are dropped
  #org = null;       // the list item
  #record = null;    // the full record, when known
  #version = null;   // the version the shown ledger is at (sent as If-Match with corrections)
  #stored = false;   // shown from the offline copy
  #kind = null;
  #editing = false;
  #problem = null;   // the refused visit being filled in again
  #submitting = false;
  #form = null;      // the visit's date and note
  #parts = {};

  constructor(root, records, outbox) {
    this.#root = root;
    this.#records = records;
    this.#outbox = outbox;
    state.on('org', (id) => (id ? this.#open(id) : this.#close()));
    state.on('reopen', (problem) => {
      if (!problem) return;
      state.set('org', null);
      this.#problem = problem;
      state.set('org', problem.org);
      state.set('reopen', null);
    });
    state.on('pending', () => { if (this.#org && !this.#editing) this.#renderLedger(); });
  }

  async #open(id) {
    const seq = ++this.#seq;
    const problem = this.#problem?.org === id ? this.#problem : null;
    this.#org = state.get('orgs')?.find((o) => o.id === id) ?? { id, name: problem?.org_name ?? '' };
    this.#record = null;
    this.#version = this.#org.version ?? null;
    this.#stored = false;
    this.#kind = problem?.body.kind ?? null;
    this.#editing = !!problem;
    this.#submitting = false;
    this.#render();
    this.#root.hidden = false;
    window.scrollTo(0, 0);
    this.#parts.title.focus({ preventScroll: true });
    let got = null;
    try {
      got = await this.#records.record(id, { fresh: !!problem });
    } catch (e) {
      if (seq !== this.#seq) return;
      if (problem && e.transient) got = await this.#records.record(id).catch(() => null);  // offline: the copy will do
      else say(`读取台账失败：${e.plain ?? '请稍后再试。'}`, { error: true });
    }
    if (seq !== this.#seq) return;
    if (got) {
      this.#record = got.record;
      this.#version = got.version;
      this.#stored = got.stored;
      if (!this.#org.name) this.#org = { ...this.#org, name: got.record.name };
    }
    this.#renderHead();
    this.#renderLedger();
    this.#records.visits(id).then((items) => { if (seq === this.#seq) this.#renderHistory(items); }).catch(() => {});
  }

  #close() {
    ++this.#seq;
    this.#org = null;
    this.#problem = null;
    this.#root.hidden = true;
    this.#root.replaceChildren();
  }

  #render() {
    const back = el('button', { type: 'button', className: 'back', textContent: '‹ 返回' });
    back.dataset.action = 'back';
    back.addEventListener('click', () => state.set('org', null));
    const title = el('h2', { tabIndex: -1 });
    const meta = el('p', { className: 'meta' });
    const banner = el('p', { className: 'banner', hidden: true });
    const kinds = el('div', { className: 'kinds', role: 'group' });
    kinds.setAttribute('aria-label', '走访方式');
    for (const kind of VISIT_KINDS) {
      const b = el('button', { type: 'button', className: 'kind', textContent: kind });
      b.dataset.kind = kind;
      b.setAttribute('aria-pressed', String(kind === this.#kind));
      b.addEventListener('click', () => { this.#kind = kind; this.#pressKinds(); });
      kinds.append(b);
    }
    const today = chinaToday();
    const date = el('input', { type: 'date', name: 'date', value: this.#problem?.body.date ?? today, max: today, required: true });
    const note = el('textarea', { name: 'note', rows: 2, maxLength: 1000, value: this.#problem?.body.note ?? '' });
    note.placeholder = '可不填';
    this.#form = el('div', { className: 'visit-fields' },
      el('label', { className: 'field' }, el('span', { textContent: '走访日期' }), date),
      el('label', { className: 'field' }, el('span', { textContent: '备注' }), note));
    const ledger = el('section', { className: 'ledger' });
    const actions = el('div', { className: 'actions' });
    const history = el('section', { className: 'history', hidden: true });
    this.#parts = { title, meta, banner, kinds, date, note, ledger, actions, history };
    this.#root.replaceChildren(
      el('div', { className: 'sheet-head' }, back, title), meta, banner,
      el('h3', { textContent: '走访方式' }), kinds, this.#form, ledger, actions, history);
    this.#renderHead();
    this.#renderLedger();
  }

  #renderHead() {
    const o = this.#record ?? this.#org;
    this.#parts.title.textContent = o.name || '组织';
    const stateName = STATE_NAMES[this.#org.state ?? (this.#record ? stateOf(this.#record) : '')] ?? '';
    const verified = this.#record ? this.#record.ledger_verified_at : this.#org.ledger_verified_at;
    const bits = [stateName, verifiedText(verified)];
    if (this.#record?.ledger_due ?? this.#org.ledger_due) bits.push('本季度待核实');
    this.#parts.meta.textContent = bits.filter(Boolean).join(' · ');
    const banner = this.#parts.banner;
    if (this.#problem) {
      banner.textContent = `${conflictText(this.#org.name || this.#problem.org_name)}下面是最新的台账，您原先填写的内容标在各项下方。`;
      banner.hidden = false;
    } else if (this.#stored) {
      banner.textContent = `当前离线，显示的是 ${chinaTime(this.#record?.at ?? '') || '之前'} 保存在本机的台账；提交后联网时自动同步。`;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  #pressKinds() {
    for (const b of this.#parts.kinds.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.kind === this.#kind));
    this.#renderActions();
  }

  /** The ledger as the instructor should see it: the record, with their own corrections that
   *  still wait in the outbox laid over it. */
  #shownLedger() {
    const values = {};
    const waiting = new Set();
    for (const f of LEDGER_FIELDS) values[f.key] = ledgerValue(this.#record, f.key);
    for (const p of state.get('pending'))
      if (p.org === this.#org?.id && p.body.ledger)
        for (const [k, v] of Object.entries(p.body.ledger)) { values[k] = v; waiting.add(k); }
    return { values, waiting };
  }

  #label(f) { return f.key === 'measure' ? measureLabel(this.#record?.kind ?? this.#org?.kind) : f.label; }

  #renderLedger() {
    const box = this.#parts.ledger;
    if (!box) return;
    const { values, waiting } = this.#shownLedger();
    const head = el('h3', { textContent: '五清台账' });
    if (!this.#record) {
      box.replaceChildren(head, el('p', { className: 'note', textContent: navigator.onLine ? '正在读取台账…' : '本机没有这个组织的台账，联网后才能查看和修改；仍可提交走访。' }));
      this.#renderActions();
      return;
    }
    if (!this.#editing) {
      const dl = el('dl');
      const extra = [['所属行业', this.#record.industry_name], ['党组织', this.#record.branch_name ?? '未建立']];
      for (const f of LEDGER_FIELDS) {
        const v = values[f.key];
        dl.append(el('dt', { textContent: this.#label(f) }),
          el('dd', { className: v === '' ? 'empty' : '' }, v === '' ? '未填写' : String(v), waiting.has(f.key) ? el('small', { className: 'wait', textContent: '（待同步）' }) : null));
      }
      for (const [k, v] of extra) if (v) dl.append(el('dt', { textContent: k }), el('dd', { textContent: v }));
      box.replaceChildren(head, dl);
    } else {
      const form = el('form', { className: 'ledger-form', id: 'ledger-form', noValidate: false });
      const mine = this.#problem?.body.ledger ?? {};
      for (const f of LEDGER_FIELDS) {
        const v = values[f.key];
        let input;
        if (f.count) {
          input = el('input', { type: 'number', name: f.key, min: 0, max: f.max, step: 1, required: true, value: String(v) });
          input.inputMode = 'numeric';
        } else if (f.multiline) {
          input = el('textarea', { name: f.key, rows: 3, maxLength: f.chars, value: String(v) });
        } else {
          input = el('input', { type: f.tel ? 'tel' : 'text', name: f.key, maxLength: f.chars, value: String(v) });
        }
        const hint = f.key in mine && String(mine[f.key]) !== String(v) ? el('small', { className: 'mine', textContent: `您原先填写：${mine[f.key] === '' ? '（空）' : mine[f.key]}` }) : null;
        form.append(el('label', { className: 'field' }, el('span', { textContent: this.#label(f) }), input, hint));
      }
      form.addEventListener('submit', (e) => { e.preventDefault(); this.#submit(true); });
      box.replaceChildren(head, form);
    }
    this.#renderActions();
  }

  #renderActions() {
    const bar = this.#parts.actions;
    if (!bar) return;
    const ready = !!this.#kind && !this.#submitting;
    const hint = this.#kind ? null : el('p', { className: 'hint', textContent: '先选择走访方式，再提交。' });
    if (!this.#editing) {
      const change = el('button', { type: 'button', className: 'secondary', textContent: '台账有变化', disabled: !this.#record || this.#submitting });
      change.dataset.action = 'edit-ledger';
      change.addEventListener('click', () => { this.#editing = true; this.#renderLedger(); this.#parts.ledger.querySelector('input, textarea')?.focus(); });
      const ok = el('button', { type: 'button', className: 'primary', textContent: '台账无误，提交', disabled: !ready });
      ok.dataset.action = 'confirm';
      ok.addEventListener('click', () => this.#submit(false));
      bar.replaceChildren(...[hint, el('div', { className: 'row' }, change, ok)].filter(Boolean));
    } else {
      const cancel = el('button', { type: 'button', className: 'secondary', textContent: '取消修改', disabled: this.#submitting });
      cancel.dataset.action = 'cancel-edit';
      cancel.addEventListener('click', () => { this.#editing = false; this.#renderLedger(); });
      const save = el('button', { type: 'submit', className: 'primary', textContent: '保存台账并提交', disabled: !ready });
      save.setAttribute('form', 'ledger-form');
      save.dataset.action = 'save-ledger';
      bar.replaceChildren(...[hint, el('div', { className: 'row' }, cancel, save)].filter(Boolean));
    }
  }

  /** The fields that differ from the ledger shown, typed as the server wants them. */
  #corrections() {
    const form = this.#parts.ledger.querySelector('form');
    const { values } = this.#shownLedger();
    const out = {};
    for (const f of LEDGER_FIELDS) {
      const raw = form.elements[f.key].value.trim();
      if (f.count) {
        const n = Number(raw);
        if (n !== Number(values[f.key])) out[f.key] = n;
      } else if (raw !== String(values[f.key]).trim()) {
        out[f.key] = raw;
      }
    }
    return out;
  }

  async #submit(withLedger) {
    if (this.#submitting || !this.#kind) return;
    const date = this.#parts.date.value || chinaToday();
    if (date > chinaToday()) { say('走访日期不能晚于今天。', { error: true }); return; }
    if (withLedger) {
      const form = this.#parts.ledger.querySelector('form');
      if (!form.reportValidity()) return;
    }
    const body = { date, kind: this.#kind, note: this.#parts.note.value.trim(), ledger_confirmed: true };
    let unchanged = false;
    if (withLedger) {
      const fix = this.#corrections();
      if (Object.keys(fix).length) body.ledger = fix;
      else unchanged = true;
    }
    this.#submitting = true;
    this.#renderActions();
    const org = this.#org;
    const problem = this.#problem;
    try {
      await this.#outbox.add({ org: org.id, org_name: org.name || this.#record?.name || '', body, base_version: body.ledger ? this.#version : null });
      if (problem) await this.#outbox.dismiss(problem.id);
    } catch (e) {
      this.#submitting = false;
      this.#renderActions();
      say(`没能保存在本机：${chineseOrNull(e?.message) ?? '请再试一次。'}`, { error: true });
      return;
    }
    const what = `${org.name}，${body.kind}${body.ledger ? '并修改台账' : ''}`;
    say(navigator.onLine ? `正在提交：${what}${unchanged ? '；台账没有改动，按无误提交' : ''}` : `已保存在本机：${what}。联网后自动提交。`);
    state.set('org', null);
    this.#outbox.sync();
  }

  #renderHistory(items) {
    const box = this.#parts.history;
    const mine = state.get('pending').filter((p) => p.org === this.#org?.id);
    const rows = [
      ...mine.map((p) => el('li', { className: 'wait' }, `${p.body.date} ${p.body.kind}`, el('small', { textContent: ' 待同步' }))),
      ...items.slice(0, HISTORY_ROWS).map((v) => {
        const by = v.by && !/[A-Za-z]{2,}/.test(v.by) ? ` · ${v.by}` : '';
        return el('li', {}, `${v.date} ${v.kind}`, el('small', { textContent: `${v.ledger_confirmed ? ' · 台账已核实' : ''}${by}${v.note ? ` · ${v.note}` : ''}` }));
      }),
    ];
    if (!rows.length) rows.push(el('li', { className: 'empty', textContent: '还没有走访记录。' }));
    box.replaceChildren(el('h3', { textContent: '最近走访' }), el('ul', { className: 'plain' }, ...rows));
    box.hidden = false;
  }
}
