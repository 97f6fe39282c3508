// A small promise wrapper over IndexedDB, written by hand: the page needs five calls (get, put,
// delete, all, clear) over three stores, which is a few dozen lines of IDB's request events.
// A library would be one more file for the service worker to cache and for the
// Content-Security-Policy's 'self' to serve, for no gain. IndexedDB, unlike the service
// worker, also works on a plain-HTTP intranet name, so the offline queue lives here.

const NAME = 'covermap-field';
const VERSION = 1;

/** The stores: visits waiting to be sent (in order of their ids), the visits the server
 *  refused (conflicts and the like, until the instructor deals with them), and copies of what
 *  was read (the organization list, each record) for when the phone is offline. */
export const OUTBOX = 'outbox';
export const PROBLEMS = 'problems';
export const CACHE = 'cache';

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

export class Db {
  #db;

  constructor(db) { this.#db = db; }

  static open() {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const name of [OUTBOX, PROBLEMS]) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(CACHE)) db.createObjectStore(CACHE, { keyPath: 'key' });
    };
    return new Promise((resolve, reject) => {
      req.onsuccess = () => {
        const db = req.result;
        // A newer page in another tab upgrades the database: let it, this tab reloads later.
        db.onversionchange = () => db.close();
        resolve(new Db(db));
      };
      req.onerror = () => reject(req.error);  // (blocked by an older tab: it waits for that tab to let go)
    });
  }

  /** One request in its own transaction; a write resolves once the transaction is committed
   *  (a queued visit is on disk before the page says so). */
  #run(store, mode, make) {
    const tx = this.#db.transaction(store, mode);
    const result = done(make(tx.objectStore(store)));
    if (mode === 'readonly') return result;
    const committed = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    });
    return Promise.all([result, committed]).then(([value]) => value);
  }

  get(store, key) { return this.#run(store, 'readonly', (s) => s.get(key)); }
  all(store) { return this.#run(store, 'readonly', (s) => s.getAll()); }  // in key order
  put(store, value) { return this.#run(store, 'readwrite', (s) => s.put(value)); }
  delete(store, key) { return this.#run(store, 'readwrite', (s) => s.delete(key)); }
  clear(store) { return this.#run(store, 'readwrite', (s) => s.clear()); }
}

/** Where IndexedDB cannot be opened (a browser's private mode): the same calls in memory, so
 *  the page still works online; the page says that nothing is kept. */
export class MemoryDb {
  #stores = new Map([[OUTBOX, new Map()], [PROBLEMS, new Map()], [CACHE, new Map()]]);
  #key(store, value) { return store === CACHE ? value.key : value.id; }
  async get(store, key) { return structuredClone(this.#stores.get(store).get(key)); }
  async all(store) {
    return [...this.#stores.get(store).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => structuredClone(v));
  }
  async put(store, value) { this.#stores.get(store).set(this.#key(store, value), structuredClone(value)); }
  async delete(store, key) { this.#stores.get(store).delete(key); }
  async clear(store) { this.#stores.get(store).clear(); }
}
