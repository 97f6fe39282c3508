// State several views share (level, role, selected organization, tile version), in one place;
// views subscribe to the changes they care about and never reach into each other's DOM.
class State extends EventTarget {
  #values = { level: 'park', role: null, name: null, org: null, area: null, tileVersion: 0, plan: null, basemap: null, basemapAttribution: null, tab: 'coverage', areaRequest: null, changePlace: null };

  get(key) { return this.#values[key]; }

  set(key, value) {
    if (this.#values[key] === value) return;
    this.#values[key] = value;
    this.dispatchEvent(new CustomEvent(key, { detail: value }));
  }

  on(key, fn) { this.addEventListener(key, (e) => fn(e.detail)); }

  /** After an edit: tiles are reloaded and figures refetched. `place` ({bbox, areas}, as a
   *  change event carries it) limits the tiles to those under the change. */
  changed(place = null) {
    this.#values.changePlace = place;
    this.set('tileVersion', this.#values.tileVersion + 1);
  }

  #mine = new Set();
  /** A change this page made (its event needs no second refresh). */
  mine(changeId) { if (changeId) this.#mine.add(changeId); }
  isMine(changeId) { return this.#mine.has(changeId); }
}

export const state = new State();
export const canEdit = () => ['planner', 'admin'].includes(state.get('role'));
