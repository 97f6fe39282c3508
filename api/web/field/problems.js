// The visits the server refused, above the list until the instructor deals with them: a
// conflict (the ledger changed since it was read) reopens with the fresh record; any other
// refusal shows the reason and can be put aside.
import { el } from './dom.js';
import { state } from './state.js';

export class Problems {
  #root;
  #outbox;

  constructor(root, outbox) {
    this.#root = root;
    this.#outbox = outbox;
    state.on('problems', () => this.render());
    state.on('org', () => this.render());
  }

  render() {
    const items = state.get('problems');
    this.#root.hidden = items.length === 0 || state.get('org') !== null;
    if (this.#root.hidden) { this.#root.replaceChildren(); return; }
    const list = el('ul', {});
    for (const p of items) {
      const buttons = [];
      if (p.kind === 'conflict') {
        const again = el('button', { type: 'button', className: 'primary', textContent: '核对并重新填写' });
        again.dataset.action = 'reopen';
        again.addEventListener('click', () => state.set('reopen', p));
        buttons.push(again);
      }
      const drop = el('button', { type: 'button', className: 'secondary', textContent: p.kind === 'conflict' ? '放弃这条' : '知道了' });
      drop.dataset.action = 'dismiss';
      drop.addEventListener('click', () => this.#outbox.dismiss(p.id));
      buttons.push(drop);
      const li = el('li', { className: p.kind },
        el('p', { className: 'message', textContent: p.message }),
        el('p', { className: 'what', textContent: `${p.body.date} ${p.body.kind}${p.body.ledger ? '，含台账修改' : ''}` }),
        el('div', { className: 'row' }, ...buttons));
      li.dataset.org = p.org;
      li.dataset.problem = p.id;
      list.append(li);
    }
    this.#root.replaceChildren(el('h2', { textContent: `未能提交（${items.length} 条）` }), list);
  }
}
