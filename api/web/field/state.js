// What the field page's views share, in one place: who is signed in, the organizations, where
// the phone is, what waits to be sent, and which organization is open. Views subscribe to the
// keys they show and never reach into each other's DOM.
class FieldState extends EventTarget {
  #values = {
    me: null,           // GET /api/me
    orgs: null,         // the instructor's organizations (list items), null until known
    listAge: null,      // when the list was read from the server (ISO time), for the offline note
    position: null,     // {lon, lat} of the phone, or null
    located: null,      // false once it is clear there is no position (no permission, no HTTPS)
    pending: [],        // the outbox's waiting visits of this instructor
    problems: [],       // visits the server refused (conflicts and the rest)
    online: navigator.onLine,
    org: null,          // the open organization's id (the visit sheet), null for the list
    reopen: null,       // a conflict being filled in again
    lastOrg: null,      // the organization last opened (focus returns to its row)
  };

  get(key) { return this.#values[key]; }

  set(key, value) {
    if (this.#values[key] === value) return;
    this.#values[key] = value;
    this.dispatchEvent(new CustomEvent(key, { detail: value }));
  }

  on(key, fn) { this.addEventListener(key, (e) => fn(e.detail)); }
}

export const state = new FieldState();
