// The coverage table's rows, kept off the page's thread (a module worker). A grid level is
// 11,000 areas and 2.7 MB of JSON: its parse alone held the page for 120–380 ms, so the page
// never holds the rows; it asks this worker for the totals, the worst areas for the chart and
// one page of sorted, filtered rows at a time.
//
// Messages: {id, type: 'load', level, token} -> {total, targets, worst, count}
//           {id, type: 'page', key, dir, filter, page, size} -> {rows, count, page}
// Answers are {id, ok} or {id, error: {status, code, message}} (the shape of api.js's ApiError).

let rows = [];
let sorted = null;  // rows in the order last asked for; null after a load
let order = '';
let loads = 0;

const handlers = {
  async load({ level, token }) {
    const seq = ++loads;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    let res;
    try {
      res = await fetch(`/api/coverage?level=${encodeURIComponent(level)}`, { headers, credentials: 'same-origin' });
    } catch (e) {
      throw Object.assign(new Error(e.message), { status: 0, code: 'Network' });
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw Object.assign(new Error(data?.message ?? res.statusText), { status: res.status, code: data?.code ?? 'Error' });
    if (seq !== loads) return { stale: true };  // another level was asked for meanwhile
    rows = data.areas.map((a) => ({ ...a, uncovered: a.operating - a.work_covered }));
    sorted = null;
    const worst = rows.filter((r) => r.operating > 0).sort((a, b) => a.org_coverage - b.org_coverage).slice(0, 12)
      .map(({ code, name, org_coverage }) => ({ code, name, org_coverage }));
    return { total: data.total, targets: data.targets, worst, count: rows.length };
  },

  page({ key, dir, filter, page, size }) {
    if (!sorted || order !== `${key}:${dir}`) {
      sorted = [...rows].sort((a, b) => (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
      order = `${key}:${dir}`;
    }
    const shown = filter ? sorted.filter((r) => r.name.includes(filter) || r.code.startsWith(filter)) : sorted;
    const pages = Math.max(1, Math.ceil(shown.length / size));
    const at = Math.min(Math.max(0, page), pages - 1);
    return { rows: shown.slice(at * size, (at + 1) * size), count: shown.length, page: at };
  },
};

self.onmessage = async ({ data: m }) => {
  try {
    self.postMessage({ id: m.id, ok: await handlers[m.type](m) });
  } catch (e) {
    self.postMessage({ id: m.id, error: { status: e.status ?? 0, code: e.code ?? 'Error', message: e.message } });
  }
};
