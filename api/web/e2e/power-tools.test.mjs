// A planner's power tools in the web page: draws a rectangle over a park, reads on the map whom
// the uncovered organizations there would get, assigns them in one step and undoes it; reads each
// instructor's load (table, chart, their organizations on the map), on a desktop and on a phone;
// proposes a rebalance of a district and accepts it; compares two plans side by side. On a phone:
// the drawing tools on the map, a rectangle drawn with taps and its dry run, the rebalance and the
// comparison, all within the screen. A viewer gets no drawing tool. Debian's chromium through
// playwright-core against a real covermap server on a fresh demo store (harness.mjs). No console
// error, no English word on the page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, assertFitsWidth, assertTappable, beyondWidth, done, englishWords, launchBrowser, signedInPage, startServer } from './harness.mjs';

const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
const ECHARTS = '/web/vendor/echarts-6.1.0/echarts.esm.min.mjs';
const TOUCH = { isMobile: true, hasTouch: true };

let srv, browser, parks, districts;

/** Web Mercator pixel of a point at zoom z (Leaflet's CRS). */
function project(lat, lon, z) {
  const scale = 256 * 2 ** z;
  const s = Math.sin((lat * Math.PI) / 180);
  return { x: (scale * (lon + 180)) / 360, y: (scale * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI))) };
}

/** The point at Web Mercator pixel (x, y) at zoom z: project's inverse. */
function unproject(x, y, z) {
  const scale = 256 * 2 ** z;
  return { lat: (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / scale))) * 180) / Math.PI, lon: (x / scale) * 360 - 180 };
}

/** A page whose map shows `center` at zoom z (the view is in the address, read on load). */
async function pageAt(token, lat, lon, z, viewport = DESKTOP, device = {}) {
  const page = await signedInPage(browser, srv.base, token, viewport, device);
  await page.evaluate(([a, b, c]) => { location.hash = `map=${c}/${a}/${b}&level=park&layers=orgs`; }, [lat, lon, z]);
  await page.reload();
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
  return page;
}

/** The screen point of (lat, lon) on a map centred on (clat, clon) at zoom z. */
async function screenPoint(page, [clat, clon, z], lat, lon) {
  const box = await page.locator('#map').boundingBox();
  const c = project(clat, clon, z), p = project(lat, lon, z);
  return { x: box.x + box.width / 2 + (p.x - c.x), y: box.y + box.height / 2 + (p.y - c.y) };
}

const assignBody = (r) => JSON.parse(r.request().postData() ?? '{}');
const isAssign = (dry) => (r) => r.url().endsWith('/api/assign') && r.request().method() === 'POST' && assignBody(r).dry_run === dry;

/** Draws a rectangle from corner a to corner b (screen points) with the page's tool. */
async function drawRectangle(page, a, b) {
  await page.click('button[data-action=draw-rectangle]');
  await page.waitForSelector('.leaflet-container.drawing');
  await page.mouse.click(a.x, a.y);
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.click(b.x, b.y);
}

/** The park with the most uncovered organizations (its card). */
async function mostUncoveredPark() {
  const cards = await Promise.all(parks.map(async (p) => (await srv.api('GET', `/api/areas/${p.code}`)).data));
  return cards.sort((a, b) => b.uncovered.length - a.uncovered.length)[0];
}

/** The district whose instructors carry the most (the rebalance has something to do there). */
async function mostLoadedDistrict() {
  const loads = await Promise.all(districts.map(async (d) => ({ d, items: (await srv.api('GET', `/api/instructors?area=${d.code}`)).data.items })));
  return loads.sort((x, y) => Math.max(0, ...y.items.map((i) => i.load / i.capacity)) - Math.max(0, ...x.items.map((i) => i.load / i.capacity)))[0].d;
}

/** The map has loaded its tiles (for a screenshot that shows it). */
async function mapLoaded(page) {
  await page.waitForFunction(() => document.getElementById('map-status').hidden, null, { timeout: 20000 });
  await page.waitForTimeout(300);
}

/**
 * Resolves once every request the page had asked for before it is seen by the test: the page
 * fetches a file of its own and the test waits to see that request (the browser reports them in
 * order).
 */
async function settled(page) {
  const mark = `/web/favicon.svg?settled=${Date.now()}`;
  await Promise.all([page.waitForRequest((r) => r.url().endsWith(mark)), page.evaluate((url) => fetch(url).then((r) => r.text()), mark)]);
}

/** An option of a <select> picked by the text it shows. */
async function pickOption(page, selector, text) {
  const value = await page.$eval(selector, (s, want) => [...s.options].find((o) => o.textContent.includes(want))?.value, text);
  assert.ok(value !== undefined, `${selector} offers ${text}`);
  await page.selectOption(selector, value);
}

describe('指导员 power tools: draw and assign, workload, rebalance, compare', () => {
  before(async () => {
    srv = await startServer({ name: 'power' });
    browser = await launchBrowser();
    parks = (await srv.api('GET', '/api/areas?level=park&limit=500')).data.items;
    districts = (await srv.api('GET', '/api/areas?level=district&limit=100')).data.items;
    mkdirSync(DOCS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('draws a rectangle over a park, reads the dry run on the map, assigns its uncovered organizations and undoes it', async () => {
    const park = await mostUncoveredPark();
    assert.ok(park.uncovered.length >= 2, `${park.name} has uncovered organizations`);
    const [w, s, e, n] = park.bbox;
    const z = 12;
    // The park right of the map's middle: clear of the drawing box (top left) and the legend (top right).
    const view = [(s + n) / 2, (w + e) / 2 - 0.02, z];
    const page = await pageAt(srv.tokens.planner, ...view);
    const sw = await screenPoint(page, view, s, w), ne = await screenPoint(page, view, n, e);
    const a = { x: sw.x - 15, y: ne.y - 15 }, b = { x: ne.x + 15, y: sw.y + 15 };

    // 取消 takes the dry run away and writes nothing.
    let answer = page.waitForResponse(isAssign(true));
    await drawRectangle(page, a, b);
    await (await answer).json();
    await page.waitForSelector('button[data-action=assign-commit]');
    await page.click('button[data-action=assign-cancel]');
    assert.equal(await page.locator('path.assign-line').count(), 0, 'the lines are gone');
    assert.ok(await page.locator('.assign-box').isHidden());

    answer = page.waitForResponse(isAssign(true));
    await drawRectangle(page, a, b);
    const res = await answer;
    const dry = await res.json();
    const polygon = assignBody(res).polygon;
    assert.equal(polygon.type, 'Polygon');
    await page.waitForSelector('button[data-action=assign-commit]');
    assert.ok(dry.assignments.length >= 1, 'something to assign');
    // Every uncovered organization of the park is a candidate, listed once, assigned or not.
    const candidates = [...dry.assignments, ...dry.unassigned].map((x) => x.org);
    assert.equal(new Set(candidates).size, candidates.length, 'each candidate once');
    for (const o of park.uncovered) assert.ok(candidates.includes(o.id), `${o.name} is a candidate`);
    assert.ok(dry.selection.uncovered >= park.uncovered.length);
    // The map: one line per assignment, one dot per organization, red for those nobody can take.
    assert.equal(await page.locator('path.assign-line').count(), dry.assignments.length);
    assert.equal(await page.locator('path.assign-org').count(), dry.assignments.length);
    assert.equal(await page.locator('path.assign-unassigned').count(), dry.unassigned.length);
    // The box: the selection by state, in words, and the list by name.
    const sel = dry.selection;
    assert.equal(await page.locator('.assign-box .selection').innerText(),
      `共 ${sel.total} 家：未覆盖 ${sel.uncovered} 家，有指导员 ${sel.instructor} 家，已建党组织 ${sel.branch} 家，停业或注销 ${sel.inactive} 家。`);
    const listed = await page.$$eval('.assign-list li', (lis) => lis.map((li) => [li.dataset.org, li.textContent]));
    assert.equal(listed.length, Math.min(200, candidates.length));
    for (const x of dry.assignments.slice(0, 5)) {
      const row = listed.find(([id]) => id === x.org);
      assert.ok(row[1].startsWith(`${x.org_name} → ${x.instructor_name}（`), row[1]);
    }
    assert.deepEqual(await englishWords(page), []);
    await mapLoaded(page);
    await page.screenshot({ path: join(DOCS, 'web-draw-assign.png') });

    // 确认指派: exactly the dry run, one change, 撤销 in the toast.
    answer = page.waitForResponse(isAssign(false));
    await page.click('button[data-action=assign-commit]');
    const committed = await (await answer).json();
    assert.equal(assignBody(await answer).polygon.type, 'Polygon');
    assert.ok(Number.isInteger(committed.change_id), 'a change id');
    const pairs = (d) => d.assignments.map((x) => `${x.org}→${x.instructor}`).sort();
    assert.deepEqual(pairs(committed), pairs(dry), 'the commit applies what the dry run showed');
    await page.waitForSelector(`#toast button[data-action=undo][data-change="${committed.change_id}"]`);
    assert.match(await page.locator('#toast .toast-text').innerText(), new RegExp(`^已为 ${dry.assignments.length} 家组织指派党建指导员。$`));
    assert.equal(await page.locator('path.assign-line').count(), 0, 'the dry run\'s lines are gone');
    for (const x of dry.assignments) {
      const org = (await srv.api('GET', `/api/orgs/${x.org}`)).data;
      assert.equal(org.instructor_id, x.instructor, `${x.org_name} has ${x.instructor_name}`);
    }

    // 撤销: none of them has an instructor again.
    await page.click('#toast button[data-action=undo]');
    await page.waitForFunction(() => document.querySelector('#toast .toast-text')?.textContent === '已撤销。');
    for (const x of dry.assignments) {
      const org = (await srv.api('GET', `/api/orgs/${x.org}`)).data;
      assert.equal(org.instructor_id, null, `${x.org_name} has no instructor again`);
    }
    assert.deepEqual(await englishWords(page), []);
    await done(page);

    // A viewer reads the map but gets no drawing tool.
    const viewer = await signedInPage(browser, srv.base, srv.tokens.viewer);
    assert.equal(await viewer.locator('button[data-action^=draw-]').count(), 0);
    await done(viewer);
  });

  it('reads each instructor\'s load, most loaded first, with the chart, and sees one instructor\'s organizations on the map', async () => {
    const items = (await srv.api('GET', '/api/instructors')).data.items;
    assert.ok(items.length > 5, 'the demo has instructors');
    const page = await signedInPage(browser, srv.base, srv.tokens.planner);
    await page.click('.tabs [data-tab=instructors]');
    await page.waitForSelector('#tab-instructors table.workload tbody tr[data-instructor]');
    await page.waitForSelector('#tab-instructors[aria-busy=false]');
    assert.equal(await page.locator('#tab-instructors h2').innerText(), `全市党建指导员工作量（${items.length} 人）`);
    const read = () => page.$$eval('#tab-instructors table.workload tbody tr[data-instructor]', (trs) => trs.map((tr) => ({
      id: tr.dataset.instructor, name: tr.querySelector('td.name').textContent, unit: tr.querySelector('td.unit').textContent,
      load: tr.querySelector('td.load').textContent, km: tr.querySelector('td.distance').textContent, visits: tr.querySelector('td.visits').textContent })));
    // The first hundred, then all of them on 显示全部.
    assert.equal((await read()).length, Math.min(100, items.length));
    if (items.length > 100) {
      assert.equal(await page.locator('#tab-instructors button[data-action=show-all-instructors]').innerText(), `显示全部 ${items.length} 位`);
      await page.click('#tab-instructors button[data-action=show-all-instructors]');
    }
    const rows = await read();
    const byId = new Map(items.map((i) => [i.id, i]));
    assert.deepEqual(rows.map((r) => r.id).sort(), items.map((i) => i.id).sort(), 'every instructor once');
    const ratios = rows.map((r) => { const i = byId.get(r.id); return i.load / i.capacity; });
    for (let k = 1; k < ratios.length; k += 1) assert.ok(ratios[k - 1] >= ratios[k], `sorted by load at row ${k}`);
    for (const r of rows) {
      const i = byId.get(r.id);
      assert.equal(r.name, i.name);
      assert.equal(r.unit, i.unit_name || i.unit || '—', 'the unit by its name');
      assert.equal(r.load, `${i.load}/${i.capacity}`);
      assert.equal(r.visits, String(i.visits_quarter ?? '—'));
      assert.equal(r.km, (i.distance_m / 1000).toFixed(1));
    }
    // The chart: the most loaded, load against capacity, in the table's order.
    const chart = await page.evaluate(async (url) => {
      const echarts = await import(url);
      const option = echarts.getInstanceByDom(document.querySelector('#tab-instructors .workload-chart')).getOption();
      return { names: option.yAxis[0].data, capacity: option.series[0].data, load: option.series[1].data.map((x) => x.value) };
    }, ECHARTS);
    const top = rows.slice(0, 15).map((r) => byId.get(r.id));
    assert.deepEqual(chart.names, top.map((i) => i.name));
    assert.deepEqual(chart.load, top.map((i) => i.load));
    assert.deepEqual(chart.capacity, top.map((i) => i.capacity));

    // A click: their organizations listed under the row and on the map, the map fitted to them.
    const busy = rows.map((r) => byId.get(r.id)).find((i) => i.load >= 2);
    const orgs = (await srv.api('GET', `/api/orgs?instructor=${busy.id}&limit=500`)).data.items;
    assert.equal(orgs.length, busy.orgs.length);
    await page.click(`#tab-instructors tr[data-instructor="${busy.id}"]`);
    await page.waitForSelector(`#tab-instructors tr.detail[data-detail="${busy.id}"]`);
    assert.deepEqual((await page.$$eval('#tab-instructors tr.detail li', (lis) => lis.map((li) => li.dataset.org))).sort(), orgs.map((o) => o.id).sort());
    assert.equal(await page.locator('path.workload-org').count(), orgs.length);
    await page.waitForTimeout(600);  // the map's move to them
    const map = await page.locator('#map').boundingBox();
    for (const dot of await page.locator('path.workload-org').all()) {
      const r = await dot.boundingBox();
      assert.ok(r.x >= map.x && r.y >= map.y && r.x + r.width <= map.x + map.width && r.y + r.height <= map.y + map.height, 'the map shows every one');
    }
    assert.deepEqual(await englishWords(page), []);
    await page.$eval('#tab-instructors', (tab) => { tab.scrollTop = 0; });
    await mapLoaded(page);
    await page.screenshot({ path: join(DOCS, 'web-workload.png') });
    // Another tab takes them off the map.
    await page.click('.tabs [data-tab=coverage]');
    assert.equal(await page.locator('path.workload-org').count(), 0);
    await done(page);

    // On a phone: the table fits the width (the page never scrolls sideways), a row still opens its list.
    const phone = await signedInPage(browser, srv.base, srv.tokens.planner, PHONE, { isMobile: true, hasTouch: true });
    await phone.click('.tabs [data-tab=instructors]');
    await phone.waitForSelector('#tab-instructors table.workload tbody tr[data-instructor]');
    await phone.waitForSelector('#tab-instructors[aria-busy=false]');
    await assertFitsWidth(phone, 'the workload table');
    const table = await phone.locator('#tab-instructors table.workload').boundingBox();
    assert.ok(table.x >= 0 && table.x + table.width <= PHONE.width, 'the table within the screen');
    await phone.tap(`#tab-instructors tr[data-instructor="${busy.id}"]`);
    await phone.waitForSelector(`#tab-instructors tr.detail[data-detail="${busy.id}"]`);
    await assertFitsWidth(phone, 'the workload table with the list open');
    assert.deepEqual(await englishWords(phone), []);
    await done(phone);
  });

  it('proposes a rebalance of a district with at most a few moves, accepts it, and compares two plans side by side', async () => {
    const district = await mostLoadedDistrict();
    const page = await signedInPage(browser, srv.base, srv.tokens.planner);
    await page.click('.tabs [data-tab=plans]');
    await page.click('#tab-plans .rebalance-box summary');
    await pickOption(page, '#tab-plans form[data-form=rebalance] select[name=scope]', `${district.name}（全区）`);
    await page.fill('#tab-plans input[name=max_moves]', '3');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/plan') && r.request().method() === 'POST');
    await page.click('#tab-plans button[data-action=run-rebalance]');
    const res = await answer;
    assert.deepEqual(JSON.parse(res.request().postData()), { mode: 'rebalance', max_moves: 3, area: district.code });
    const plan = await res.json();
    assert.equal(res.status(), 201);
    assert.equal(plan.mode, 'rebalance');
    assert.ok(plan.proposals.length <= 3, 'never more than max_moves');
    await page.waitForSelector('#tab-plans .rebalance-summary');
    const sum = plan.summary;
    assert.equal(await page.locator('#tab-plans .rebalance-summary').innerText(),
      `调整 ${sum.moves} 处；超负荷指导员 ${sum.overloaded_before} 人 → ${sum.overloaded_after} 人；最高负荷 ${(sum.max_load_before * 100).toFixed(1)} % → ${(sum.max_load_after * 100).toFixed(1)} %；总距离 ${(sum.distance_before_m / 1000).toFixed(1)} → ${(sum.distance_after_m / 1000).toFixed(1)} 公里。`);
    assert.ok(sum.overloaded_after <= sum.overloaded_before);
    assert.ok(plan.proposals.length >= 1, 'the most loaded district has something to move');
    {
      // Each move by name: organization, from, to; accepted as any proposal.
      const p = plan.proposals[0];
      const li = page.locator(`#tab-plans li[data-proposal="${p.id}"]`);
      assert.match(await li.innerText(), new RegExp(`^${p.org_name}：${p.from_name} → ${p.to_name}`));
      await page.click('#tab-plans .proposal-group[data-type=move] button[data-action=accept-all]');
      await page.click('dialog.confirm button[data-action=confirm]');
      await page.waitForSelector('#toast button[data-action=undo]');
      for (const q of plan.proposals) assert.equal((await srv.api('GET', `/api/orgs/${q.org}`)).data.instructor_id, q.to, `${q.org_name} moved to ${q.to_name}`);
    }

    // A plan of the same district's streets, then the two side by side.
    const other = (await srv.api('POST', '/api/plan', srv.tokens.planner, { level: 'street', area: district.code })).data;
    assert.ok(other.proposals.length > 0);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    await page.click('.tabs [data-tab=plans]');
    await page.selectOption('#tab-plans select[name=compare-a]', other.id);
    await page.selectOption('#tab-plans select[name=compare-b]', 'current');
    const compared = page.waitForResponse((r) => r.url().includes(`/compare/`));
    await page.click('#tab-plans button[data-action=compare]');
    const cmp = await (await compared).json();
    assert.ok(cmp.differ.length > 0, 'the plan changes something');
    await page.waitForSelector('#tab-plans table.compare-figures');
    const figures = await page.$$eval('#tab-plans table.compare-figures tbody tr', (trs) => trs.map((tr) => [tr.dataset.figure,
      tr.querySelector('td.side-a').textContent, tr.querySelector('td.side-b').textContent]));
    const pct = (x) => `${(x * 100).toFixed(1)} %`;
    assert.deepEqual(figures, [
      ['org_coverage', pct(cmp.a.org_coverage), pct(cmp.b.org_coverage)], ['work_coverage', pct(cmp.a.work_coverage), pct(cmp.b.work_coverage)],
      ['orgs_touched', String(cmp.a.orgs_touched), String(cmp.b.orgs_touched)], ['instructors_used', String(cmp.a.instructors_used), String(cmp.b.instructors_used)],
      ['total_m', `${(cmp.a.total_m / 1000).toFixed(1)} 公里`, `${(cmp.b.total_m / 1000).toFixed(1)} 公里`]]);
    assert.deepEqual(await page.$$eval('#tab-plans table.compare-figures thead th', (ths) => ths.map((th) => th.textContent)), ['指标', other.id, '当前']);
    assert.ok(cmp.a.org_coverage >= cmp.b.org_coverage, 'the plan covers at least what today does');
    // What differs: listed by name, drawn on the map.
    const differ = await page.$$eval('#tab-plans .compare-differ li', (lis) => lis.map((li) => [li.dataset.org, li.querySelector('button').textContent]));
    assert.equal(differ.length, Math.min(200, cmp.differ.length));
    const names = new Map(cmp.differ_places.map((p) => [p.id, p.name]));
    for (const [id, name] of differ) assert.equal(name, names.get(id));
    assert.equal(await page.locator('path.compare-org').count(), cmp.differ_places.length);
    assert.equal(await page.locator('#tab-plans h4').first().innerText(), `两者安排不同的组织（${cmp.differ.length} 家）`);
    assert.deepEqual(await englishWords(page), []);
    await mapLoaded(page);
    await page.screenshot({ path: join(DOCS, 'web-compare.png') });

    // The rebalance against the street plan: two plans, each its own column.
    await page.selectOption('#tab-plans select[name=compare-a]', plan.id);
    await page.selectOption('#tab-plans select[name=compare-b]', other.id);
    const again = page.waitForResponse((r) => r.url().includes(`/compare/`));
    await page.click('#tab-plans button[data-action=compare]');
    await again;
    await page.waitForFunction((id) => document.querySelector('#tab-plans table.compare-figures th.side-b')?.textContent === id, other.id);
    assert.equal(await page.locator('#tab-plans table.compare-figures th.side-a').innerText(), plan.id);
    // The same plan twice is refused on the page, in words.
    await page.selectOption('#tab-plans select[name=compare-b]', plan.id);
    await page.click('#tab-plans button[data-action=compare]');
    assert.match(await page.locator('#tab-plans .compare-body .message.error').innerText(), /请选择两个不同的方案/);
    await done(page);
  });

  it('on a phone: the drawing tools are on the map, a rectangle drawn with two taps shows its dry run within the screen, and 取消 writes nothing', async () => {
    const park = await mostUncoveredPark();
    const [w, s, e, n] = park.bbox;
    // The park 100 pixels below the map's middle: clear of the drawing buttons and of the box under
    // them (top left), whole on the phone's map at zoom 11.
    const z = 11;
    const mid = project((s + n) / 2, (w + e) / 2, z);
    const centre = unproject(mid.x, mid.y - 100, z);
    const view = [centre.lat, centre.lon, z];
    const page = await pageAt(srv.tokens.planner, ...view, PHONE, TOUCH);
    // The map's own taps pick the organization under them (its card, the map zoomed to it).
    const picks = [];
    page.on('request', (r) => { if (r.url().includes('/api/orgs?near=')) picks.push(r.url()); });
    await assertFitsWidth(page, 'the map');
    // Both tools on the first screen, in the map's top left corner.
    const map = await page.locator('#map').boundingBox();
    for (const [action, label] of [['draw-rectangle', '矩形框选'], ['draw-polygon', '多边形圈选']]) {
      const button = page.locator(`button[data-action=${action}]`);
      assert.equal(await button.innerText(), label);
      await assertTappable(button, label);
      const b = await button.boundingBox();
      assert.ok(b.x >= map.x && b.y >= map.y && b.x + b.width <= map.x + map.width && b.y + b.height <= map.y + map.height, `${label} on the map`);
    }
    assert.equal(await page.evaluate(() => scrollY), 0, 'the tools on the first screen: nothing scrolled to reach them');

    // 多边形圈选: its hint (no Esc on a phone), 完成 and 取消 within the screen; 取消 ends it.
    await page.tap('button[data-action=draw-polygon]');
    await page.waitForSelector('.leaflet-container.drawing');
    await page.waitForSelector('button[data-action=draw-finish]');
    assert.equal(await page.getAttribute('button[data-action=draw-polygon]', 'aria-pressed'), 'true');
    assert.equal(await page.locator('.assign-box p').first().innerText(), '在地图上依次点击各个顶点，点击第一个顶点或“完成”结束。');
    assert.deepEqual(await beyondWidth(page, '.draw-assign'), []);
    await assertTappable(page.locator('button[data-action=draw-finish]'), '完成');
    await assertTappable(page.locator('button[data-action=draw-cancel]'), '取消 (drawing)');
    assert.deepEqual(await englishWords(page), []);
    await page.tap('button[data-action=draw-cancel]');
    await page.locator('.assign-box').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('.leaflet-container.drawing').count(), 0);
    await settled(page);
    assert.deepEqual(picks, [], 'a tap on 取消 is not a tap on the map under it');

    // 矩形框选 by two taps on the park's corners (clear of the box with the hint).
    const answer = page.waitForResponse(isAssign(true), { timeout: 60000 });
    await page.tap('button[data-action=draw-rectangle]');
    await page.waitForSelector('.leaflet-container.drawing');
    await page.waitForSelector('button[data-action=draw-cancel]');
    const sw = await screenPoint(page, view, s, w), ne = await screenPoint(page, view, n, e);
    const a = { x: sw.x - 15, y: ne.y - 15 }, b = { x: ne.x + 15, y: sw.y + 15 };
    const tools = await page.locator('.draw-assign').boundingBox();
    assert.ok(a.y > tools.y + tools.height + 5, 'the corners below the drawing box');
    assert.ok(a.x > map.x && b.x < map.x + map.width && b.y < map.y + map.height - 20, 'the corners on the map');
    await page.touchscreen.tap(a.x, a.y);
    await page.touchscreen.tap(b.x, b.y);
    const dry = await (await answer).json();
    await page.waitForSelector('button[data-action=assign-commit]');
    assert.ok(dry.assignments.length >= 1, 'something to assign');
    const candidates = [...dry.assignments, ...dry.unassigned].map((x) => x.org);
    for (const o of park.uncovered) assert.ok(candidates.includes(o.id), `${o.name} is a candidate: the taps drew the park's rectangle`);
    assert.equal(await page.locator('path.assign-line').count(), dry.assignments.length);
    // The box: within the screen, its list scrolling inside it; 确认指派 and 取消 on screen.
    await assertFitsWidth(page, 'the dry run');
    assert.deepEqual(await beyondWidth(page, '.draw-assign'), []);
    const box = await page.locator('.assign-box').boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= PHONE.height, 'the box within the screen\'s height');
    await assertTappable(page.locator('button[data-action=assign-commit]'), '确认指派');
    await assertTappable(page.locator('button[data-action=assign-cancel]'), '取消 (dry run)');
    assert.deepEqual(await englishWords(page), []);
    await page.tap('button[data-action=assign-cancel]');
    assert.equal(await page.locator('path.assign-line').count(), 0, 'the lines are gone');
    assert.ok(await page.locator('.assign-box').isHidden());
    await settled(page);
    assert.deepEqual(picks, [], 'a tap on 取消 is not a tap on the map under it');
    for (const x of dry.assignments) assert.equal((await srv.api('GET', `/api/orgs/${x.org}`)).data.instructor_id, null, `${x.org_name}: nothing written`);
    await done(page);
  });

  it('on a phone: 均衡调整 and 方案对比 open and run within the screen\'s width, their buttons on screen', async () => {
    const district = await mostLoadedDistrict();
    const page = await signedInPage(browser, srv.base, srv.tokens.planner, PHONE, TOUCH);
    await page.tap('.tabs [data-tab=plans]');
    await page.waitForSelector('#tab-plans .rebalance-box summary');
    await page.tap('#tab-plans .rebalance-box summary');
    const run = page.locator('#tab-plans button[data-action=run-rebalance]');
    await run.waitFor();
    await assertFitsWidth(page, 'the rebalance form');
    assert.deepEqual(await beyondWidth(page, '#tab-plans'), []);
    await assertTappable(run, '生成均衡方案');
    await pickOption(page, '#tab-plans form[data-form=rebalance] select[name=scope]', `${district.name}（全区）`);
    await page.fill('#tab-plans input[name=max_moves]', '3');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/plan') && r.request().method() === 'POST', { timeout: 60000 });
    await run.tap();
    const res = await answer;
    assert.equal(res.status(), 201);
    const plan = await res.json();
    assert.ok(plan.proposals.length >= 1 && plan.proposals.length <= 3, `one to three moves: ${plan.proposals.length}`);
    await page.waitForSelector('#tab-plans .rebalance-summary');
    await page.waitForSelector(`#tab-plans li[data-proposal="${plan.proposals[0].id}"]`);
    // The proposals by name, within the width; 全部采纳 on screen, asking first (its dialog on
    // screen too); 取消 there writes nothing.
    await assertFitsWidth(page, 'the rebalance');
    assert.deepEqual(await beyondWidth(page, '#tab-plans'), []);
    const acceptAll = page.locator('#tab-plans .proposal-group[data-type=move] button[data-action=accept-all]');
    await assertTappable(acceptAll, '全部采纳');
    const selected = page.locator('#tab-plans .proposal-group[data-type=move] button[data-action=accept-selected]');
    if (await selected.count()) await assertTappable(selected, '采纳所选');
    await assertTappable(page.locator(`#tab-plans li[data-proposal="${plan.proposals[0].id}"] button[data-action=locate]`), '定位 (a proposal)');
    await assertTappable(page.locator('#tab-plans form[data-form=rebalance] select[name=scope]'), '范围 (the list of areas)');
    assert.deepEqual(await englishWords(page), []);
    await acceptAll.tap();
    const dialog = page.locator('dialog.confirm[open]');
    await dialog.waitFor();
    assert.deepEqual(await beyondWidth(page, 'dialog.confirm[open]'), []);
    await assertTappable(dialog.locator('button[data-action=confirm]'), '确定 (dialog)');
    await assertTappable(dialog.locator('button[data-action=cancel]'), '取消 (dialog)');
    await dialog.locator('button[data-action=cancel]').tap();
    await dialog.waitFor({ state: 'hidden' });
    for (const q of plan.proposals) assert.equal((await srv.api('GET', `/api/orgs/${q.org}`)).data.instructor_id, q.from, `${q.org_name}: nothing written`);

    // 方案对比: the rebalance against today, side by side.
    await page.selectOption('#tab-plans select[name=compare-a]', plan.id);
    await page.selectOption('#tab-plans select[name=compare-b]', 'current');
    const compare = page.locator('#tab-plans button[data-action=compare]');
    await assertTappable(compare, '对比');
    const compared = page.waitForResponse((r) => r.url().includes('/compare/'), { timeout: 60000 });
    await compare.tap();
    const cmp = await (await compared).json();
    assert.ok(cmp.differ.length > 0, 'the rebalance changes something');
    await page.waitForSelector('#tab-plans table.compare-figures');
    assert.deepEqual(await page.$$eval('#tab-plans table.compare-figures thead th', (ths) => ths.map((th) => th.textContent)), ['指标', plan.id, '当前']);
    assert.equal(await page.locator('#tab-plans .compare-body h4').innerText(), `两者安排不同的组织（${cmp.differ.length} 家）`);
    await assertFitsWidth(page, 'the comparison');
    assert.deepEqual(await beyondWidth(page, '#tab-plans'), []);
    const table = await page.locator('#tab-plans table.compare-figures').boundingBox();
    assert.ok(table.x >= 0 && table.x + table.width <= PHONE.width, 'the figures within the screen');
    await assertTappable(compare, '对比 (again)');
    assert.deepEqual(await englishWords(page), []);
    await done(page);
  });
});
