// The visits an instructor recorded, kept in IndexedDB until the server has them. Every visit
// goes in here first and is sent from here, online or not, so nothing depends on the service
// worker. A run sends the waiting visits in the order they were recorded; only a 201 removes
// one. A visit is never sent twice by this page: one run at a time (and one tab at a time where
// the Web Locks API exists), and a visit whose answer was lost is looked for on the server
// before it is sent again.
import { ApiError, request, seg } from './api.js';
import { CACHE, OUTBOX, PROBLEMS } from './idb.js';
import { conflictText } from './text.js';

const DELIVERED_KEY = 'delivered';  // visit ids this phone sent (see #arrived)

let counter = 0;
/** Ids sort in the order visits were recorded (IndexedDB returns them in key order) and are
 *  unique without crypto.randomUUID, which plain-HTTP pages do not have. */
function newId() {
  const rand = crypto.getRandomValues(new Uint32Array(2));
  counter = (counter + 1) % 1296;
  return `${Date.now().toString(36).padStart(10, '0')}${counter.toString(36).padStart(2, '0')}-${rand[0].toString(36)}${rand[1].toString(36)}`;
}

export class Outbox extends EventTarget {
  #db;
  #who;
  #running = null;
  #again = false;

  /** `who`: the signed-in instructor; visits another account left on this phone wait for it. */
  constructor(db, who) {
    super();
    this.#db = db;
    this.#who = who;
  }

  /** Queues a visit: {org, org_name, body (as POSTed), base_version (the record's version the
   *  corrections were made from; null without corrections)}. Resolves once it is stored. */
  async add({ org, org_name, body, base_version = null }) {
    const waiting = await this.items();
    const item = {
      id: newId(), who: this.#who, org, org_name, body, base_version, created: new Date().toISOString(),
      // A second correction of one organization made before the first reached the server is
      // made on top of it: it follows the first's new version rather than conflicting with it.
      chain: !!body.ledger && waiting.some((w) => w.org === org && w.body.ledger),
      sent: false,
    };
    await this.#db.put(OUTBOX, item);
    this.#changed();
    return item;
  }

  async items() { return (await this.#db.all(OUTBOX)).filter((i) => i.who === this.#who); }
  async problems() { return (await this.#db.all(PROBLEMS)).filter((i) => i.who === this.#who); }
  async dismiss(id) { await this.#db.delete(PROBLEMS, id); this.#changed(); }

  /** Sends what waits. Calls during a run make it go round once more instead of starting a
   *  second run beside it. Resolves when the queue has been gone through. */
  sync() {
    if (this.#running) { this.#again = true; return this.#running; }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await (navigator.locks ? navigator.locks.request('covermap-field-outbox', () => this.#run()) : this.#run());
        } while (this.#again);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #run() {
    for (const item of await this.items()) {
      if (!navigator.onLine) { this.#stopped(new ApiError(0, 'Offline', 'offline')); return; }
      // Re-read: a run in another tab (without Web Locks) may have sent it meanwhile.
      const current = await this.#db.get(OUTBOX, item.id);
      if (!current) continue;
      try {
        if (current.sent && await this.#arrived(current)) {
          await this.#db.delete(OUTBOX, current.id);
          this.#changed();
          continue;
        }
        const ifMatch = current.body.ledger ? current.base_version : undefined;
        // From here the server may get it even if the answer never comes back.
        if (!current.sent) await this.#db.put(OUTBOX, { ...current, sent: true });
        const { data } = await request('POST', `/api/orgs/${seg(current.org)}/visits`, { body: current.body, ifMatch });
        await this.#delivered(current, ifMatch, data);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.transient || e.status === 401) { this.#stopped(e); return; }
        // Refused for good: out of the queue, into the list the instructor sees.
        const problem = { ...current, kind: e.status === 412 ? 'conflict' : 'refused', status: e.status, code: e.code,
          message: e.status === 412 ? conflictText(current.org_name)
            : e.plain.includes(current.org_name) ? e.plain : `${current.org_name}：${e.plain}`,
          at: new Date().toISOString() };
        await this.#db.put(PROBLEMS, problem);
        await this.#db.delete(OUTBOX, current.id);
        this.#changed();
        this.dispatchEvent(new CustomEvent('problem', { detail: problem }));
      }
    }
  }

  async #delivered(item, ifMatch, data) {
    await this.#db.delete(OUTBOX, item.id);
    const seen = (await this.#db.get(CACHE, DELIVERED_KEY))?.ids ?? [];
    await this.#db.put(CACHE, { key: DELIVERED_KEY, ids: [...seen, data.visit_id].slice(-500) });
    if (item.body.ledger) {
      // Corrections queued on top of this one now start from the version it made.
      for (const later of await this.items())
        if (later.org === item.org && later.chain && later.base_version === ifMatch)
          await this.#db.put(OUTBOX, { ...later, base_version: data.version });
    }
    this.#changed();
    this.dispatchEvent(new CustomEvent('delivered', { detail: { item, data } }));
  }

  /** A visit sent before whose answer was lost (the connection dropped): it is there if the
   *  organization has a visit of this instructor with the same day, kind, note and
   *  confirmation that this phone did not already account for. */
  async #arrived(item) {
    const { data } = await request('GET', `/api/orgs/${seg(item.org)}/visits`);
    const known = new Set((await this.#db.get(CACHE, DELIVERED_KEY))?.ids ?? []);
    const b = item.body;
    const hit = (data?.items ?? []).find((v) => !known.has(v.id) && v.instructor === this.#who && v.date === b.date &&
      v.kind === b.kind && (v.note ?? '') === (b.note ?? '') && v.ledger_confirmed === !!b.ledger_confirmed);
    if (hit) await this.#db.put(CACHE, { key: DELIVERED_KEY, ids: [...known, hit.id].slice(-500) });
    return !!hit;
  }

  #stopped(error) { this.dispatchEvent(new CustomEvent('stopped', { detail: error })); }
  #changed() { this.dispatchEvent(new Event('change')); }
}
