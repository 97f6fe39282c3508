// The instructor's organizations: those whose ledger is due this quarter first, then the
// nearest (or by name when the phone's position is unknown). A tap opens the visit sheet.
import { data, el } from './dom.js';
import { state } from './state.js';
import { STATE_NAMES, chinaTime, distanceText, verifiedText } from './text.js';
import { metersBetween } from './where.js';

const byName = new Intl.Collator('zh-CN');

export class OrgList {
  #root;
  #note;

  constructor(root, note) {
    this.#root = root;
    this.#note = note;
    for (const key of ['orgs', 'position', 'located', 'pending', 'online', 'listAge']) state.on(key, () => this.render());
  }

  render() {
    const orgs = state.get('orgs');
    if (!orgs) return;
    const here = state.get('position');
    const waiting = new Set(state.get('pending').map((p) => p.org));
    const rows = orgs.map((o) => ({ o, d: here && Number.isFinite(o.lon) ? metersBetween(here, o) : null }));
    rows.sort((a, b) => (b.o.ledger_due - a.o.ledger_due) || (a.d !== null && b.d !== null ? a.d - b.d : 0) ||
      byName.compare(a.o.name, b.o.name));
    this.#root.replaceChildren(...rows.map(({ o, d }) => this.#row(o, d, waiting.has(o.id))));
    if (!orgs.length) this.#root.append(el('li', { className: 'empty', textContent: '您还没有联系的组织。' }));
    this.#noteText(here);
  }

  #row(o, meters, waiting) {
    const badges = el('span', { className: 'badges' },
      o.ledger_due ? el('span', { className: 'badge due', textContent: '待核实' }) : el('span', { className: 'badge ok', textContent: '本季已核实' }),
      waiting ? el('span', { className: 'badge wait', textContent: '待同步' }) : null);
    const button = el('button', { type: 'button', className: 'org' },
      el('span', { className: 'line' }, el('b', { className: 'name', textContent: o.name }), badges),
      el('span', { className: 'line meta' },
        el('span', { className: `state s-${o.state}`, textContent: STATE_NAMES[o.state] ?? '' }),
        el('span', { className: 'verified', textContent: verifiedText(o.ledger_verified_at) }),
        meters === null ? null : el('span', { className: 'dist', textContent: distanceText(meters) })));
    data(button, { org: o.id, due: o.ledger_due });
    button.addEventListener('click', () => state.set('org', o.id));
    return el('li', {}, button);
  }

  #noteText(here) {
    const parts = [];
    if (!here && state.get('located') === false) parts.push('未获得手机位置，按名称排列。');
    if (!state.get('online') && state.get('listAge')) parts.push(`当前离线，显示的是 ${chinaTime(state.get('listAge'))} 读取的名单。`);
    this.#note.textContent = parts.join('');
    this.#note.hidden = parts.length === 0;
  }
}
