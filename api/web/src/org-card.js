// One organization: its record, the instructor picker (nearest first, with load and industry
// match), assign/remove with If-Match, the plain-words answer to a 409 or 412, its history.
import { get, request, seg } from './api.js';
import { t } from './i18n.js';
import { canEdit, state } from './state.js';
import { confirmAction, toast } from './undo.js';
import { el } from './dom.js';

function field(dl, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = t(label);
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

export class OrgCard {
  constructor(root, mapView, showTab) {
    this.root = root;
    this.mapView = mapView;
    this.showTab = showTab;
    this.root.textContent = t('org.none');
    state.on('org', (id) => { if (id) this.open(id, true); });
    // Any change (an undo from the toast or the change log among them): the open card is
    // read again where it is, unless this card's own edit is on its way.
    state.on('tileVersion', () => { if (this.current && !this.editing) this.open(this.current, false, null, false).catch(() => {}); });
  }

  async open(id, fly = false, message = null, show = true) {
    if (show) this.showTab('org');
    const res = await request('GET', `/api/orgs/${seg(id)}`);
    const o = res.data;
    this.current = o.id;
    this.version = o.version;
    if (fly) this.mapView.flyToOrg(o);
    this.mapView.markOrg(o);
    const h = document.createElement('h2');
    h.textContent = o.name;
    const dl = document.createElement('dl');
    field(dl, 'org.id', o.id);
    field(dl, 'org.kind', t(`kind.${o.kind}`));
    // Names first; codes after them, in parentheses.
    const named = (name, code) => (name && name !== code ? `${name}（${code}）` : String(code));
    field(dl, 'org.industry', o.industry ? named(o.industry_name, o.industry) : '—');
    field(dl, 'org.employees', o.employees);
    field(dl, 'org.members', o.party_members);
    field(dl, 'org.branch', o.branch_id != null ? named(o.branch_name, o.branch_id) : t('org.noBranch'));
    field(dl, 'org.instructor', o.instructor_id ? named(o.instructor_name, o.instructor_id) : t('org.noInstructor'));
    field(dl, 'org.credit', o.credit_code || '—');
    field(dl, 'org.status', t(`status.${o.status}`));
    if (o.address) field(dl, 'org.address', `${o.address}${o.location_precision !== 'exact' ? ` (${t(`precision.${o.location_precision}`)})` : ''}`);
    if (o.ledger?.person_in_charge) field(dl, 'org.person', `${o.ledger.person_in_charge} ${o.ledger.phone}`);
    // The 五清 ledger's freshness this quarter, and the branch's last 五有 check.
    if (o.status === 'operating') {
      const when = o.ledger_verified_at ? t('org.verifiedAt', { date: o.ledger_verified_at }) : t('org.notVerified');
      field(dl, 'org.verified', o.ledger_due ? `${when} · ${t('org.due')}` : when);
    }
    if (o.branch_check) {
      const c = o.branch_check;
      const missing = Object.entries(c.wuyou).filter(([, met]) => !met).map(([k]) => t(`wuyou.${k}`));
      const stars = c.stars ? ` · ${t('org.stars', { n: c.stars })}` : '';
      field(dl, 'org.wuyou', `${c.all_five ? t('org.wuyouAll') : t('org.wuyouMissing', { items: missing.join('、') })}${stars}（${c.date}）`);
    }
    const card = document.createElement('section');
    card.className = 'card org-card';
    card.dataset.org = o.id;
    card.append(h, dl);
    this.msg = document.createElement('div');
    this.msg.setAttribute('role', 'status');
    if (message) this.#say(message.text, message.error);
    card.append(this.msg);
    card.append(this.#ledger(o));
    if (canEdit() && o.status === 'operating') card.append(await this.#picker(o));
    card.append(await this.#visits(o));
    card.append(await this.#history(o));
    this.root.replaceChildren(card);
  }

  async #picker(o) {
    const section = document.createElement('section');
    section.className = 'picker';
    const h = document.createElement('h3');
    h.textContent = t('pick.title');
    const ul = document.createElement('ul');
    const list = await get(`/api/orgs/${seg(o.id)}/instructors?limit=8`);
    for (const i of list.items) {
      const li = document.createElement('li');
      li.dataset.instructor = i.id;
      const name = document.createElement('span');
      name.textContent = `${i.name} · ${t('pick.km', { d: (i.distance_m / 1000).toFixed(1) })} `;
      const load = document.createElement('span');
      load.className = `badge${i.load >= i.capacity ? ' full' : ''}`;
      load.textContent = t('pick.load', { load: i.load, cap: i.capacity });
      name.append(load);
      if (i.industry_match) {
        const m = document.createElement('span');
        m.className = 'badge match';
        m.textContent = t('pick.match');
        name.append(' ', m);
      }
      const b = document.createElement('button');
      b.type = 'button';
      if (i.current) {
        b.className = 'secondary';
        b.textContent = t('pick.remove');
        b.addEventListener('click', async () => {
          if (await confirmAction(t('confirm.unassign', { org: o.name, name: i.name }), t('pick.remove'))) this.#set(o, null, i);
        });
      } else {
        b.className = 'primary';
        b.textContent = t('pick.assign');
        b.addEventListener('click', () => this.#set(o, i.id, i));
      }
      li.append(name, b);
      if (!i.current && i.load >= i.capacity) {
        // A full instructor cannot take one more: said beside the button, not after a 409.
        b.disabled = true;
        const why = t('pick.fullReason', { name: i.name, load: i.load, cap: i.capacity });
        b.title = why;
        li.append(el('small', { className: 'muted reason', textContent: why }));
      }
      ul.append(li);
    }
    section.append(h, ul);
    return section;
  }

  async #set(o, instructorId, instructor) {
    const path = `/api/orgs/${seg(o.id)}/instructor`;
    this.editing = true;
    try {
      const { data } = instructorId === null
        ? await request('DELETE', path, { ifMatch: this.version })
        : await request('PUT', path, { body: { instructor_id: instructorId }, ifMatch: this.version });
      state.changed();
      const text = instructorId === null ? t('pick.removed') : t('pick.done', { name: instructor.name });
      await this.open(o.id, false, { text });
      toast(`${o.name}：${text}`, { changeId: data?.change_id });
    } catch (e) {
      if (e.status === 409) {
        this.#say(t('err.409', { name: instructor.name, cap: instructor.capacity }), true);
      } else if (e.status === 412) {
        await this.open(o.id, false, { text: t('err.412'), error: true });
      } else {
        this.#say(e.plain ?? String(e), true);
      }
    } finally {
      this.editing = false;
    }
  }

  /** The ledger (台账) and the record's figures: shown to all, corrected by planners (audited). */
  #ledger(o) {
    const form = document.createElement('form');
    form.className = 'ledger';
    const h = document.createElement('h3');
    h.textContent = t('ledger.title');
    form.append(h);
    if (canEdit()) {
      const status = document.createElement('select');
      status.name = 'status';
      for (const v of ['operating', 'suspended', 'deregistered']) {
        const opt = document.createElement('option');
        opt.value = v;
        opt.textContent = t(`status.${v}`);
        opt.selected = o.status === v;
        status.append(opt);
      }
      const label = document.createElement('label');
      label.textContent = t('org.status');
      label.append(status);
      form.append(label);
      for (const key of ['employees', 'party_members']) {
        const input = document.createElement('input');
        input.type = 'number';
        input.min = '0';
        input.name = key;
        input.value = o[key];
        const l = document.createElement('label');
        l.textContent = t(key === 'employees' ? 'org.employees' : 'org.members');
        l.append(input);
        form.append(l);
      }
    }
    for (const key of ['no_branch_reason', 'measure']) {
      const label = document.createElement('label');
      label.textContent = t(`ledger.${key}`);
      const input = document.createElement('textarea');
      input.name = key;
      input.rows = 2;
      input.value = o.ledger?.[key] ?? '';
      input.readOnly = !canEdit();
      label.append(input);
      form.append(label);
    }
    if (canEdit()) {
      const save = document.createElement('button');
      save.type = 'submit';
      save.className = 'secondary';
      save.textContent = t('ledger.save');
      form.append(save);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        this.editing = true;
        try {
          const { data } = await request('PATCH', `/api/orgs/${seg(o.id)}`, {
            body: {
              no_branch_reason: form.elements.no_branch_reason.value,
              measure: form.elements.measure.value,
              status: form.elements.status.value,
              employees: Number(form.elements.employees.value),
              party_members: Number(form.elements.party_members.value),
            },
            ifMatch: this.version,
          });
          state.changed();
          await this.open(o.id, false, { text: t('ledger.saved') });
          toast(`${o.name}：${t('ledger.saved')}`, { changeId: data?.change_id });
        } catch (err) {
          if (err.status === 412) await this.open(o.id, false, { text: t('err.412'), error: true });
          else this.#say(err.plain ?? String(err), true);
        } finally {
          this.editing = false;
        }
      });
    }
    return form;
  }

  /** The latest visits (recorded in the field page or through the API). */
  async #visits(o) {
    const section = document.createElement('section');
    const h = document.createElement('h3');
    h.textContent = t('visits.title');
    const ul = document.createElement('ul');
    ul.className = 'plain visits';
    const list = await get(`/api/orgs/${seg(o.id)}/visits`);
    for (const v of list.items.slice(0, 5)) {
      const li = document.createElement('li');
      li.textContent = `${v.date} · ${v.kind} · ${v.by}${v.ledger_confirmed ? ` · ${t('visits.confirmed')}` : ''}${v.note ? ` · ${v.note}` : ''}`;
      ul.append(li);
    }
    if (!list.items.length) ul.textContent = t('visits.none');
    section.append(h, ul);
    return section;
  }

  async #history(o) {
    const section = document.createElement('section');
    const h = document.createElement('h3');
    h.textContent = t('history.title');
    const ul = document.createElement('ul');
    ul.className = 'plain history';
    const list = await get(`/api/orgs/${seg(o.id)}/history`);
    for (const e of [...list.items].reverse()) {
      const li = document.createElement('li');
      const key = e.action.startsWith('accept_plan') ? 'history.plan'
        : e.action === 'remove_instructor' ? 'history.remove'
          : e.action === 'assign_instructor' ? 'history.assign' : 'history.other';
      li.textContent = `${e.time.replace('T', ' ').slice(0, 16)} · ${t(key, { by: e.by, to: e.after?.instructor_name ?? e.after?.instructor_id ?? '' })}`;
      ul.append(li);
    }
    if (!list.items.length) ul.textContent = t('history.none');
    section.append(h, ul);
    return section;
  }

  #say(text, error = false) {
    this.msg.className = `message${error ? ' error' : ''}`;
    this.msg.textContent = text;
  }
}
