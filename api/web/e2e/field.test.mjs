// An instructor's rounds with the field page (GET /field) on a 390 x 844 phone, in Debian's
// chromium driven by playwright-core, against a real covermap server on a fresh demo store
// (harness.mjs): sign in from the link, record visits online and offline, correct the ledger,
// meet a conflict. One test per job; none may log a console error. Screenshots go to
// COVERMAP_E2E_ARTIFACTS (default tests/web/artifacts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, done, launchBrowser, startServer, watchedPage } from './harness.mjs';

const INTRANET = 'covermap.intranet';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN' };

let srv, browser;
let admin, instructor, link;  // tokens; the instructor's sign-in link
let orgs;                      // the instructor's organizations (the API's list)
let here;                      // where the phone is: among them

/** Today in China (UTC+8), whatever this machine's zone. */
const chinaToday = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);

const record = async (id) => (await srv.api('GET', `/api/orgs/${encodeURIComponent(id)}`, admin)).data;
const visits = async (id) => (await srv.api('GET', `/api/orgs/${encodeURIComponent(id)}/visits`, admin)).data.items;

/** The instructor serving the most organizations (at least 3), and a token for them. */
async function makeInstructor() {
  const all = (await srv.api('GET', '/ogc/collections/orgs/items?limit=10000', admin)).data.features.map((f) => f.properties);
  const load = new Map();
  for (const o of all) if (o.instructor_id) load.set(o.instructor_id, (load.get(o.instructor_id) ?? 0) + 1);
  const [id, n] = [...load.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  assert.ok(n >= 3, `an instructor with at least 3 organizations (${id}: ${n})`);
  ({ token: instructor, link } = srv.addToken('instructor', { instructor: id, name: '外勤', link: srv.base }));
  assert.match(link, /\/field#token=cm_/);
  const me = (await srv.api('GET', '/api/me', instructor)).data;
  assert.equal(me.instructor_id, id);
  orgs = (await srv.api('GET', `/api/orgs?instructor=${encodeURIComponent(id)}&limit=500`, admin)).data.items;
  assert.equal(orgs.length, n);
  // The phone stands near the first of them, a little off.
  here = { longitude: orgs[0].lon + 0.003, latitude: orgs[0].lat + 0.002 };
  return me;
}

/** A phone signed in through the link, its organizations listed; console errors collected. */
async function phone({ allow = [] } = {}) {
  const page = await watchedPage(browser, { ...PHONE, geolocation: here, permissions: ['geolocation'] }, allow);
  await page.goto(link);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
  await page.waitForFunction((n) => document.querySelectorAll('#orgs button.org').length === n, orgs.length);
  return page;
}

const row = (page, id) => page.locator(`#orgs button.org[data-org="${id}"]`);
const pending = (page) => page.locator('#pending').getAttribute('data-count').then(Number);

/** Waits until the page has a copy of the organization's record for offline use. */
const storedRecord = (page, id) => page.waitForFunction((key) => new Promise((resolve) => {
  const req = indexedDB.open('covermap-field');
  req.onsuccess = () => {
    const get = req.result.transaction('cache').objectStore('cache').get(key);
    get.onsuccess = () => { resolve(!!get.result); req.result.close(); };
    get.onerror = () => resolve(false);
  };
  req.onerror = () => resolve(false);
}), `org:${id}`, { timeout: 10000 });

/** Polls until fn() is truthy (the server's view after a sync). */
async function until(fn, what, ms = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Distances as shown: "约 350 米", "约 1.2 公里". */
const meters = (text) => {
  const m = /约 ([\d.]+) (米|公里)/.exec(text);
  return m ? Number(m[1]) * (m[2] === '公里' ? 1000 : 1) : null;
};

describe('an instructor\'s rounds on the field page', () => {
  let me;
  before(async () => {
    // Only the admin's token (serve prints it) and the instructor's: no planner or viewer here.
    srv = await startServer({ name: 'field', roles: [] });
    admin = srv.tokens.admin;
    me = await makeInstructor();
    // An intranet name over plain HTTP (not a secure context, unlike 127.0.0.1): no service worker there.
    browser = await launchBrowser({ args: [`--host-resolver-rules=MAP ${INTRANET} 127.0.0.1`] });
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('signs in from the link and lists the organizations, due ones first, with distances', async () => {
    const page = await phone();
    assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
    assert.equal(await page.evaluate(() => localStorage.getItem('covermap.token')), instructor);
    assert.match(await page.locator('#who').innerText(), new RegExp(me.instructor_name));
    const due = orgs.filter((o) => o.ledger_due).length;
    assert.equal(await page.locator('#due').innerText(), `本季度待核实 ${due} / ${orgs.length}`);
    // Due ones first; within each group the nearest first; every row says how far it is.
    await page.waitForFunction(() => [...document.querySelectorAll('#orgs .dist')].length === document.querySelectorAll('#orgs button.org').length);
    const rows = await page.$$eval('#orgs button.org', (bs) => bs.map((b) => ({ id: b.dataset.org, due: b.dataset.due === 'true', text: b.innerText })));
    assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(orgs.map((o) => o.id)));
    assert.deepEqual(rows.map((r) => r.due), [...rows.map((r) => r.due)].sort((a, b) => b - a), 'due ones first');
    for (const group of [true, false]) {
      const d = rows.filter((r) => r.due === group).map((r) => meters(r.text));
      assert.ok(d.every((x) => x !== null), 'a distance on every row');
      assert.deepEqual(d, [...d].sort((a, b) => a - b), 'nearest first');
    }
    for (const r of rows) {
      const o = orgs.find((x) => x.id === r.id);
      assert.ok(r.text.includes(o.name));
      assert.ok(r.text.includes({ branch: '已建党组织', instructor: '已派指导员', uncovered: '未覆盖', inactive: '停业或注销' }[o.state]));
      assert.ok(r.text.includes(o.ledger_verified_at ? `上次核实 ${o.ledger_verified_at}` : '尚未核实'));
      if (o.ledger_due) assert.ok(r.text.includes('待核实'));
    }
    // Phone-first: no sideways scroll, thumb-sized targets.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll');
    const small = await page.$$eval('button, a', (els) => els.filter((e) => e.offsetParent)
      .map((e) => [e.textContent.trim(), e.getBoundingClientRect()]).filter(([, r]) => r.height < 44 || r.width < 44).map(([t]) => t));
    assert.deepEqual(small, [], 'every tap target at least 44 px');
    // Installable: a manifest that is served, an icon, a service worker (127.0.0.1 is secure).
    // Addresses in it are relative (they resolve under a proxy's prefix too): resolved, the page.
    const href = await page.evaluate(() => document.querySelector('link[rel=manifest]').href);
    const res = await fetch(href);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/manifest\+json/);
    const manifest = await res.json();
    assert.equal(manifest.name, 'covermap 走访');
    assert.equal(manifest.short_name, '走访');
    assert.equal(new URL(manifest.start_url, href).href, `${srv.base}/field`);
    assert.equal(new URL(manifest.scope, href).href, `${srv.base}/field`);
    assert.equal(manifest.display, 'standalone');
    assert.ok(manifest.theme_color);
    const icon = await fetch(new URL(manifest.icons[0].src, href));
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type'), /^image\/svg\+xml/);
    const worker = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { script: reg.active?.scriptURL, scope: reg.scope };
    });
    assert.equal(worker.script, `${srv.base}/field-sw.js`);
    assert.equal(worker.scope, `${srv.base}/field`);
    await done(page, 'field-list');
  });

  it('records a visit in three taps', async () => {
    const page = await phone();
    // The top row: a due one when any is (the demo's own visits depend on the day it is made).
    const first = await page.locator('#orgs button.org').first().getAttribute('data-org');
    const org = orgs.find((o) => o.id === first);
    assert.equal(org.ledger_due, orgs.some((o) => o.ledger_due), 'a due one on top');
    const before = (await visits(org.id)).length;
    await row(page, org.id).tap();                                    // 1: the organization
    await page.locator('button.kind[data-kind="走访"]').tap();         // 2: the kind
    await page.screenshot({ path: join(ARTIFACTS, 'field-visit.png') });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll in the sheet');
    const small = await page.$$eval('#sheet button, #sheet input, #sheet textarea', (els) => els.filter((e) => e.offsetParent)
      .filter((e) => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; }).map((e) => e.textContent || e.name));
    assert.deepEqual(small, [], 'every tap target of the sheet at least 44 px');
    assert.ok(await page.locator('button[data-action=confirm]').isEnabled(), 'a kind chosen, the visit can go');
    await page.locator('button[data-action=confirm]').tap();          // 3: 台账无误，提交
    await page.waitForFunction(() => document.querySelector('#status-text')?.textContent.startsWith('已提交'));
    assert.equal(await pending(page), 0);
    const after = await visits(org.id);
    assert.equal(after.length, before + 1, 'the visit arrived once');
    const v = after[0];
    assert.deepEqual([v.kind, v.date, v.ledger_confirmed, v.instructor], ['走访', chinaToday(), true, me.instructor_id]);
    const now = await record(org.id);
    assert.equal(now.ledger_verified_at, chinaToday());
    assert.equal(now.ledger_due, false);
    // The list reads the server again: the row is no longer due.
    await page.waitForFunction((id) => document.querySelector(`#orgs button.org[data-org="${id}"]`)?.dataset.due === 'false', org.id);
    await done(page);
  });

  it('corrects the ledger through the form', async () => {
    const page = await phone();
    const org = orgs[1];
    const was = await record(org.id);
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="实地查看"]').tap();
    await page.locator('button[data-action=edit-ledger]').tap();
    const input = page.locator('#ledger-form input[name=person_in_charge]');
    assert.equal(await input.inputValue(), was.ledger.person_in_charge, 'prefilled from the record');
    assert.equal(await page.locator('#ledger-form input[name=employees]').inputValue(), String(was.employees));
    await input.fill('王建国');
    await page.locator('button[data-action=save-ledger]').tap();
    await page.waitForFunction(() => document.querySelector('#status-text')?.textContent.startsWith('已提交'));
    const now = await record(org.id);
    assert.equal(now.ledger.person_in_charge, '王建国');
    assert.equal(now.version, was.version + 1, 'one change');
    assert.equal(now.employees, was.employees, 'nothing else changed');
    assert.equal(now.ledger_verified_at, chinaToday());
    const v = (await visits(org.id))[0];
    assert.deepEqual([v.kind, v.ledger_confirmed], ['实地查看', true]);
    // Opened again, the sheet shows the new value.
    await row(page, org.id).tap();
    await page.waitForFunction(() => document.querySelector('#sheet .ledger dl')?.textContent.includes('王建国'));
    await done(page);
  });

  it('records a visit offline and it arrives exactly once back online', async () => {
    const page = await phone();
    const org = orgs[2];
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 });
    await storedRecord(page, org.id);
    const before = (await visits(org.id)).length;
    const context = page.context();
    await context.setOffline(true);
    await page.waitForSelector('#offline:not([hidden])');
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="电话"]').tap();
    await page.locator('#sheet textarea[name=note]').fill('离线时记录');
    await page.locator('button[data-action=confirm]').tap();
    await page.waitForSelector('#pending[data-count="1"]');
    assert.equal(await page.locator('#pending').innerText(), '待同步 1 条');
    assert.match(await page.locator('#status-text').innerText(), /已保存在本机/);
    await page.screenshot({ path: join(ARTIFACTS, 'field-offline.png') });
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await visits(org.id)).length, before, 'nothing reached the server while offline');
    // Still offline, the page opens again (the service worker's shell) with its list and queue.
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 15000 });
    assert.equal(await page.locator('#orgs button.org').count(), orgs.length, 'the stored list shows offline');
    assert.equal(await pending(page), 1);
    assert.match(await page.locator('#list-note').innerText(), /当前离线/);
    // Online: the outbox sends it, once, however often it is nudged while the POST is on its
    // way (held back 800 ms here so that the nudges surely overlap it).
    await page.evaluate(() => {
      const send = window.fetch;
      window.fetch = (url, init) => (init?.method === 'POST' ? new Promise((r) => setTimeout(r, 800)).then(() => send(url, init)) : send(url, init));
    });
    await context.setOffline(false);
    await page.evaluate(() => {
      for (let i = 0; i < 3; i++) window.dispatchEvent(new Event('online'));
      document.getElementById('retry').click();
    });
    const arrived = await until(async () => {
      const v = await visits(org.id);
      return v.length > before && v;
    }, 'the offline visit on the server');
    await page.waitForSelector('#pending[data-count="0"]', { state: 'attached' });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));  // and after it, nothing more either
    await new Promise((r) => setTimeout(r, 2000));
    const all = await visits(org.id);
    assert.equal(all.length, before + 1, 'exactly once');
    assert.deepEqual([arrived[0].note, arrived[0].kind, arrived[0].date], ['离线时记录', '电话', chinaToday()]);
    await done(page);
  });

  it('shows a conflict in Chinese when the ledger changed meanwhile, and reopens it with fresh data', async () => {
    // The browser itself logs the refused request (412) in the console; the page logs nothing.
    const page = await phone({ allow: [/status of 412/] });
    const org = orgs[0];
    await storedRecord(page, org.id);
    const seen = await record(org.id);
    const before = (await visits(org.id)).length;
    await page.context().setOffline(true);
    await page.waitForSelector('#offline:not([hidden])');
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="走访"]').tap();
    await page.locator('button[data-action=edit-ledger]').tap();
    await page.locator('#ledger-form input[name=person_in_charge]').fill('李离线');
    await page.locator('button[data-action=save-ledger]').tap();
    await page.waitForSelector('#pending[data-count="1"]');
    // Meanwhile a planner changes the same organization.
    const patched = await srv.api('PATCH', `/api/orgs/${encodeURIComponent(org.id)}`, admin, { person_in_charge: '张规划' }, seen.version);
    assert.equal(patched.status, 200);
    await page.context().setOffline(false);
    const problem = page.locator(`#problems li.conflict[data-org="${org.id}"]`);
    await problem.waitFor({ timeout: 15000 });
    assert.match(await problem.innerText(), new RegExp(`${org.name}的台账已被他人修改，未提交；请核对后重新填写`));
    await page.screenshot({ path: join(ARTIFACTS, 'field-conflict.png') });
    assert.equal(await pending(page), 0, 'out of the queue');
    assert.equal((await record(org.id)).ledger.person_in_charge, '张规划', 'the correction was not applied');
    assert.equal((await visits(org.id)).length, before, 'nor the visit recorded');
    // Reopened: the fresh ledger, with what the instructor had entered beside it.
    await problem.locator('button[data-action=reopen]').tap();
    const input = page.locator('#ledger-form input[name=person_in_charge]');
    await input.waitFor();
    await page.waitForFunction(() => document.querySelector('#ledger-form input[name=person_in_charge]')?.value === '张规划');
    assert.match(await page.locator('#ledger-form').innerText(), /您原先填写：李离线/);
    await input.fill('李离线');
    await page.locator('button[data-action=save-ledger]').tap();
    await until(async () => (await record(org.id)).ledger.person_in_charge === '李离线', 'the corrected ledger');
    await page.waitForSelector('#problems', { state: 'hidden' });
    await done(page);
  });

  it('shows the server\'s reason for another refusal and keeps the visit out of the queue', async () => {
    const page = await phone({ allow: [/status of 403/] });
    const org = orgs.at(-1);
    await page.context().setOffline(true);
    await page.waitForSelector('#offline:not([hidden])');
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="蹲点"]').tap();
    await page.locator('button[data-action=confirm]').tap();
    await page.waitForSelector('#pending[data-count="1"]');
    // Meanwhile the organization is given to another instructor.
    const cur = await record(org.id);
    const other = (await srv.api('GET', `/api/orgs/${encodeURIComponent(org.id)}/instructors?limit=20`, admin)).data.items
      .find((i) => i.id !== me.instructor_id && i.load < i.capacity);
    assert.equal((await srv.api('PUT', `/api/orgs/${encodeURIComponent(org.id)}/instructor`, admin, { instructor_id: other.id }, cur.version)).status, 200);
    await page.context().setOffline(false);
    const problem = page.locator(`#problems li.refused[data-org="${org.id}"]`);
    await problem.waitFor({ timeout: 15000 });
    assert.match(await problem.innerText(), /不是本指导员联系的组织/);
    assert.equal(await pending(page), 0);
    await problem.locator('button[data-action=dismiss]').tap();
    await page.waitForSelector('#problems', { state: 'hidden' });
    // The list read again after the sync no longer has it.
    await row(page, org.id).waitFor({ state: 'detached' });
    orgs = orgs.filter((o) => o.id !== org.id);
    await done(page);
  });

  it('works over plain HTTP on an intranet name: no service worker, no position, the same queue', async () => {
    const page = await watchedPage(browser, { ...PHONE, geolocation: here, permissions: ['geolocation'] });
    const context = page.context();
    const plain = link.replace('127.0.0.1', INTRANET);
    assert.notEqual(plain, link);
    await page.goto(plain);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    assert.deepEqual(await page.evaluate(() => [window.isSecureContext, 'serviceWorker' in navigator, document.body.dataset.worker ?? null]),
      [false, false, null]);
    // No position over plain HTTP: due ones first, then by name.
    await page.waitForSelector('#list-note:not([hidden])');
    assert.match(await page.locator('#list-note').innerText(), /未获得手机位置，按名称排列/);
    const now = (await srv.api('GET', `/api/orgs?instructor=${encodeURIComponent(me.instructor_id)}&limit=500`, admin)).data.items;
    const byName = new Intl.Collator('zh-CN');
    const expected = [...now].sort((a, b) => (b.ledger_due - a.ledger_due) || byName.compare(a.name, b.name)).map((o) => o.id);
    assert.deepEqual(await page.$$eval('#orgs button.org', (bs) => bs.map((b) => b.dataset.org)), expected);
    assert.equal(await page.locator('#orgs .dist').count(), 0);
    // The outbox is IndexedDB's, not the worker's: offline, queued; online, sent once.
    const org = now[0];
    const before = (await visits(org.id)).length;
    await context.setOffline(true);
    await page.waitForSelector('#offline:not([hidden])');
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="电话"]').tap();
    await page.locator('button[data-action=confirm]').tap();
    await page.waitForSelector('#pending[data-count="1"]');
    assert.equal((await visits(org.id)).length, before);
    await context.setOffline(false);
    await page.waitForSelector('#pending[data-count="0"]', { state: 'attached' });
    await until(async () => (await visits(org.id)).length === before + 1, 'the visit sent over plain HTTP');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await visits(org.id)).length, before + 1, 'exactly once');
    // The answer lost on the way back (the server has the visit, the phone saw the connection
    // drop): the next sync finds it on the server and does not send it again.
    const lost = '**/api/orgs/*/visits';
    await page.route(lost, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await route.fetch({ url: route.request().url().replace(INTRANET, '127.0.0.1') });  // Playwright's own request: no resolver rule
      await route.abort('connectionreset');
    });
    await row(page, org.id).tap();
    await page.locator('button.kind[data-kind="走访"]').tap();
    await page.locator('button[data-action=confirm]').tap();
    await until(async () => (await visits(org.id)).length === before + 2, 'the visit whose answer was lost');
    await page.waitForSelector('#status.error');
    assert.match(await page.locator('#status-text').innerText(), /连不上服务器：记录仍保存在本机/);
    assert.equal(await pending(page), 1, 'still waiting: the phone cannot know');
    await page.unroute(lost);
    await page.locator('#retry').tap();
    await page.waitForSelector('#pending[data-count="0"]', { state: 'attached' });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await visits(org.id)).length, before + 2, 'found on the server, not sent twice');
    page.errors = page.errors.filter((e) => !/ERR_CONNECTION_RESET|ERR_FAILED/.test(e));  // the browser's log of the cut connection
    await done(page);
  });

  it('speaks Chinese only: no English word anywhere on the page', async () => {
    const words = async (page) => {
      const text = await page.evaluate(() => {
        const attrs = [...document.querySelectorAll('[aria-label], [placeholder], [title]')].filter((e) => e.offsetParent)
          .flatMap((e) => ['aria-label', 'placeholder', 'title'].map((a) => e.getAttribute(a) ?? ''));
        return [document.body.innerText, ...attrs].join('\n');
      });
      return [...text.matchAll(/[A-Za-z]{2,}/g)].map((m) => m[0]).filter((w) => w.toLowerCase() !== 'covermap');
    };
    const found = new Map();
    const scan = async (page, where) => { for (const w of await words(page)) found.set(w, where); };
    // The sign-in form (no token yet), and an account that is not an instructor's.
    const context = await browser.newContext({ ...PHONE });
    const bare = await context.newPage();
    await bare.goto(`${srv.base}/field`);
    await bare.waitForSelector('#sign-in:not([hidden])');
    await scan(bare, 'sign-in');
    await bare.fill('#token', 'cm_0000');
    await bare.locator('#sign-in-form button[type=submit]').tap();
    await bare.waitForSelector('#sign-in-error:not([hidden])');
    await scan(bare, 'sign-in error');
    await bare.fill('#token', admin);
    await bare.locator('#sign-in-form button[type=submit]').tap();
    await bare.waitForSelector('#not-instructor:not([hidden])');
    await scan(bare, 'not an instructor');
    await context.close();
    // The list, a sheet, the ledger form, offline with a visit waiting.
    const page = await phone();
    await scan(page, 'list');
    await row(page, orgs[1].id).tap();
    await page.waitForSelector('#sheet .history:not([hidden])');
    await scan(page, 'sheet');
    await page.locator('button.kind[data-kind="走访"]').tap();
    await page.locator('button[data-action=edit-ledger]').tap();
    await scan(page, 'ledger form');
    await page.locator('button[data-action=cancel-edit]').tap();
    await page.context().setOffline(true);
    await page.locator('button[data-action=confirm]').tap();
    await page.waitForSelector('#pending[data-count="1"]');
    await scan(page, 'offline');
    await page.context().setOffline(false);
    await page.waitForSelector('#pending[data-count="0"]', { state: 'attached' });
    assert.deepEqual([...found.entries()], [], 'English words on the zh-CN page');
    await done(page);
  });
});
