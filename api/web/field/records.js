// What the page read from the server, kept in IndexedDB so that the list, each record and its
// recent visits still show when the phone is offline. Reads go to the server when online and
// fall back to the stored copy when it cannot be reached.
import { ApiError, get, request, seg } from './api.js';
import { CACHE } from './idb.js';

export class Records {
  #db;
  #who;

  constructor(db, who) {
    this.#db = db;
    this.#who = who;
  }

  #listKey() { return `orgs:${this.#who}`; }

  /** The stored list: {items, at} or null. */
  async storedList() { return (await this.#db.get(CACHE, this.#listKey())) ?? null; }

  /** The list from the server, stored for later. Throws ApiError. */
  async fetchList() {
    const data = await get(`/api/orgs?instructor=${seg(this.#who)}&limit=500`);
    const list = { key: this.#listKey(), items: data.items, at: new Date().toISOString() };
    await this.#db.put(CACHE, list);
    return list;
  }

  /** One record: {record, version, stored (true when it is the offline copy)}, or null when
   *  offline with no copy. `fresh`: the server's or an error, never the copy. */
  async record(id, { fresh = false } = {}) {
    if (navigator.onLine || fresh) {
      try {
        const { data, version } = await request('GET', `/api/orgs/${seg(id)}`);
        const saved = { key: `org:${id}`, record: data, version: version ?? data.version, at: new Date().toISOString() };
        await this.#db.put(CACHE, saved);
        return { record: saved.record, version: saved.version, stored: false };
      } catch (e) {
        if (fresh || !(e instanceof ApiError && e.transient)) throw e;
      }
    }
    const saved = await this.#db.get(CACHE, `org:${id}`);
    return saved ? { record: saved.record, version: saved.version, stored: true, at: saved.at } : null;
  }

  /** The organization's recent visits (newest first), from the server or the copy. */
  async visits(id) {
    if (navigator.onLine) {
      try {
        const data = await get(`/api/orgs/${seg(id)}/visits`);
        await this.#db.put(CACHE, { key: `visits:${id}`, items: data.items.slice(0, 20) });
        return data.items;
      } catch (e) {
        if (!(e instanceof ApiError && e.transient)) throw e;
      }
    }
    return (await this.#db.get(CACHE, `visits:${id}`))?.items ?? [];
  }

  /** Reads every record of the list once, one after another, so that they open offline too. */
  async prefetch(ids) {
    for (const id of ids) {
      if (!navigator.onLine) return;
      await this.record(id).catch(() => {});
    }
  }

  /** Forgets what was read (sign-out): another account must not see it. */
  async forget() { await this.#db.clear(CACHE); }
}
