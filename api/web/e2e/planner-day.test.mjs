// A planner's day in the web page, in Debian's chromium driven by playwright-core, against a
// real covermap server on a fresh demo store (harness.mjs). One test per job; none may log a
// console error. Screenshots go to COVERMAP_E2E_ARTIFACTS (default tests/web/artifacts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ARTIFACTS, BIN, DESKTOP, PHONE, done, englishWords, launchBrowser, signedInPage, startServer } from './harness.mjs';

let srv, browser;

/** A signed-in page with its first tiles loaded; page.firstTilesMs counts from going to the page. */
async function signedIn(role, viewport = DESKTOP, device = {}) {
  const page = await signedInPage(browser, srv.base, srv.tokens[role], viewport, device);
  await page.waitForFunction(() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0, null, { timeout: 30000 });
  page.firstTilesMs = Date.now() - page.openedAt;
  return page;
}

const kpi = (page, key) => page.locator(`.kpi[data-kpi="${key}"] b`).innerText();

describe('a planner\'s day', () => {
  before(async () => {
    srv = await startServer({ name: 'planner-day' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('signs in, keeps the token in localStorage, and sees the first tiles', async () => {
    const page = await signedIn('planner');
    console.log(`time to first tiles on loopback: ${page.firstTilesMs} ms`);
    assert.equal(await page.evaluate(() => localStorage.getItem('covermap.token')), srv.tokens.planner);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'covermap_session');
    assert.ok(session?.httpOnly, 'tiles are authorized by an HttpOnly cookie');
    assert.equal(session.sameSite, 'Strict');
    const srcs = await page.$$eval('img.leaflet-tile', (imgs) => imgs.map((i) => i.src));
    assert.ok(srcs.every((s) => !s.includes('cm_')), 'no token in a tile URL');
    assert.match(await page.locator('#who').innerText(), /e2e-planner/);
    await page.waitForSelector('.leaflet-parks-pane path[data-park]');  // the parks, and the names laid out around them
    await page.waitForTimeout(300);
    await done(page, 'county-parks');
  });

  it('switches levels, sorts the park panel and zooms to a park', async () => {
    const page = await signedIn('planner');
    // The districts' names never overlap, at the county view and one zoom out.
    await page.waitForSelector('.leaflet-parks-pane path[data-park]');
    for (const step of [0, 1]) {
      if (step) { await page.click('.leaflet-control-zoom-out'); await page.waitForTimeout(600); }
      const boxes = await page.$$eval('.area-label', (labels) => labels.filter((l) => getComputedStyle(l).visibility !== 'hidden')
        .map((l) => { const r = l.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }));
      assert.ok(boxes.length >= 2, 'district names shown');
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          assert.ok(!(a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]), `labels ${i} and ${j} overlap`);
        }
      // Nor does one sit on a park's own name, which the tiles print at the park's middle.
      const parks = await page.$$eval('.leaflet-parks-pane path[data-park]', (paths) => paths.map((p) => {
        const r = p.getBoundingClientRect();
        return [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
      }));
      for (const [x, y] of parks)
        for (const b of boxes) assert.ok(!(x >= b[0] - 30 && x <= b[2] + 30 && y >= b[1] - 10 && y <= b[3] + 10), 'a district name on a park');
    }
    await page.click('.leaflet-control-zoom-in');
    await page.click('.levels button[data-level=street]');
    await page.waitForFunction(() => document.querySelector('#tab-coverage h2')?.textContent.includes('街道'));
    await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile')].some((i) => i.src.includes('coverage-street')));
    await page.click('.levels button[data-level=park]');
    await page.waitForFunction(() => document.querySelector('#tab-coverage h2')?.textContent.includes('园区'));
    // Sort by organizational coverage, descending: the first row has the highest rate.
    await page.click('th[data-key=org_coverage] button');
    await page.waitForSelector('table.coverage[aria-busy=false] th[data-key=org_coverage][aria-sort=descending]');
    const rates = await page.$$eval('table.coverage tbody tr td:nth-child(2)', (tds) => tds.map((td) => parseFloat(td.textContent)));
    assert.ok(rates.length >= 3);
    assert.deepEqual(rates, [...rates].sort((a, b) => b - a));
    const zoomBefore = await page.evaluate(() => document.querySelector('.leaflet-tile-container img')?.src);
    await page.click('table.coverage tbody tr:first-child');
    await page.waitForSelector('.area-card h3');
    await page.waitForFunction((b) => document.querySelector('.leaflet-tile-container img')?.src !== b, zoomBefore);
    assert.ok(await page.locator('.leaflet-pane.leaflet-highlight-pane path').count() > 0, 'the park is outlined');
    await page.waitForTimeout(800);
    await done(page, 'park-zoomed');
  });

  it('switches to the grid level without a long task over 200 ms, paging the table', async () => {
    const page = await signedIn('planner');
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: false });
    });
    await page.click('.levels button[data-level=grid]');
    await page.waitForFunction(() => document.querySelector('#tab-coverage h2')?.textContent.includes('网格'));
    await page.waitForSelector('table.coverage tbody tr');
    await page.waitForTimeout(1500);  // the tiles of the level, the chart
    const tasks = await page.evaluate(() => window.longTasks);
    console.log(`grid level: long tasks ${JSON.stringify(tasks.map((d) => Math.round(d)))} ms`);
    assert.ok(tasks.every((d) => d < 200), `no long task over 200 ms (${Math.max(0, ...tasks)} ms)`);
    assert.equal(await page.locator('table.coverage tbody tr').count(), 100, 'one page of rows');
    assert.match(await page.locator('.pager').innerText(), /第 1–100 行，共 [\d,]+ 行/);
    await page.click('.pager button[data-action=next-page]');
    await page.waitForFunction(() => /第 101–200 行/.test(document.querySelector('.pager').textContent));
    // A filter finds a cell by name on any page.
    const last = (await srv.api('GET', '/api/areas?level=grid&limit=20000', srv.tokens.viewer)).data.items.at(-1);
    await page.fill('.table-filter', last.name);
    await page.waitForFunction((code) => !!document.querySelector(`table.coverage tbody tr[data-code="${code}"]`), last.code);
    await done(page, 'grid-level');
  });

  it('shows a colleague\'s change without a reload, and no tile of another zoom after a jump', async () => {
    const page = await signedIn('viewer');
    await page.click('.levels button[data-level=district]');  // every organization counts at this level
    await page.waitForFunction(() => document.querySelector('#tab-coverage h2')?.textContent.includes('区县'));
    const uncovered = Number(await kpi(page, 'cov.uncovered'));
    await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile')].every((i) => i.complete));
    const orgTiles = () => page.$$eval('.tiles-orgs img.leaflet-tile', (imgs) => imgs.map((i) => i.src));
    const orgsBefore = await orgTiles();
    // A colleague assigns an instructor through the API: the page hears of it (GET /api/events).
    const org = (await srv.api('GET', '/api/orgs?covered=false&limit=1', srv.tokens.viewer)).data.items[0];
    const near = (await srv.api('GET', `/api/orgs/${encodeURIComponent(org.id)}/instructors?limit=8`, srv.tokens.viewer)).data.items.find((i) => i.load < i.capacity);
    const cur = (await srv.api('GET', `/api/orgs/${encodeURIComponent(org.id)}`, srv.tokens.viewer)).data;
    const t0 = Date.now();
    const r = await srv.api('PUT', `/api/orgs/${encodeURIComponent(org.id)}/instructor`, srv.tokens.planner, { instructor_id: near.id }, cur.version);
    assert.equal(r.status, 200);
    await page.waitForFunction((n) => Number(document.querySelector('.kpi[data-kpi="cov.uncovered"] b')?.textContent) === n - 1, uncovered, { timeout: 5000 });
    console.log(`a colleague's change shown after ${Date.now() - t0} ms`);
    // Only the organizations' tiles around the change load again; the others stay.
    await page.waitForFunction((b) => [...document.querySelectorAll('.tiles-orgs img.leaflet-tile')].some((i) => !b.includes(i.src)), orgsBefore);
    const orgsAfter = await orgTiles();
    const reloaded = orgsAfter.filter((src) => !orgsBefore.includes(src)).length;
    console.log(`organization tiles loaded again: ${reloaded} of ${orgsAfter.length}`);
    assert.ok(reloaded >= 1 && reloaded < orgsAfter.length / 2, `${reloaded} of ${orgsAfter.length} tiles reloaded`);
    // A jump from the county to a district: no enlarged tile of the old zoom stays.
    const zoomOf = () => page.evaluate(() => Number(/#map=(\d+)/.exec(location.hash)?.[1]));
    const before = await zoomOf();
    await page.click('table.coverage tbody tr:first-child');
    await page.waitForFunction((z) => Number(/#map=(\d+)/.exec(location.hash)?.[1]) > z + 1, before);
    const zoom = await zoomOf();
    const visibleZooms = () => page.$$eval('.leaflet-tile-pane img.leaflet-tile', (imgs) =>
      imgs.filter((i) => i.src.includes('/tiles/') && getComputedStyle(i.parentElement).visibility !== 'hidden')
        .map((i) => Number(/\/tiles\/[^/]+\/(\d+)\//.exec(i.src)?.[1])));
    // Leaflet keeps the old zoom's tiles until the new zoom's have loaded (cold renders, on a
    // busy machine more than a second): then they must go.
    await page.waitForFunction(() => [...document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile')].every((i) => i.complete), null, { timeout: 15000 });
    const stale = () => visibleZooms().then((zs) => zs.filter((z) => z < zoom - 1));
    for (let waited = 0; waited < 5000 && (await stale()).length; waited += 250) await page.waitForTimeout(250);
    const zooms = await visibleZooms();
    assert.ok(zooms.length > 0);
    assert.deepEqual(zooms.filter((z) => z < zoom - 1), [], `tiles of zoom ${zoom} or the one above only (before: ${before})`);
    await done(page, 'live');
  });

  it('opens a park\'s card from the map, and an area\'s card from a search result', async () => {
    const page = await signedIn('viewer');
    const park = page.locator('.leaflet-parks-pane path[data-park]').first();
    await park.waitFor();
    const code = await park.getAttribute('data-park');
    const card = (await srv.api('GET', `/api/areas/${code}?limit=1`, srv.tokens.viewer)).data;
    await park.hover({ force: true });
    await page.locator('.park-tip').waitFor();
    assert.match(await page.locator('.park-tip').innerText(), new RegExp(`${card.name} · 组织覆盖`));
    await park.dispatchEvent('click');  // inside the park, wherever it is on screen
    await page.waitForFunction((n) => document.querySelector('.area-card h3')?.textContent === n, card.name);
    assert.equal(await page.locator('.org-card').count(), 0, 'the park, not the nearest organization');
    // A street found by name: its card, whatever the level.
    const street = (await srv.api('GET', '/api/areas?level=street&limit=1', srv.tokens.viewer)).data.items[0];
    await page.fill('#search', street.name);
    await page.click(`#search-results li[data-area="${street.code}"]`);
    await page.waitForFunction((n) => document.querySelector('.area-card h3')?.textContent === n, street.name);
    await done(page, 'park-card');
  });

  it('searches an organization by name and opens its card', async () => {
    const page = await signedIn('viewer');
    const any = (await srv.api('GET', '/api/orgs?limit=1', srv.tokens.viewer)).data.items[0];
    await page.fill('#search', any.name.slice(0, 4));
    await page.click(`#search-results li[data-org="${any.id}"]`);
    await page.waitForSelector(`.org-card[data-org="${any.id}"]`);
    assert.equal(await page.locator('.org-card h2').innerText(), any.name);
    assert.equal(await page.locator('.org-card .picker').count(), 0, 'a viewer sees no edit controls');
    // The field loop on the card: the ledger's freshness and the latest visits, as the API has them.
    const visits = (await srv.api('GET', `/api/orgs/${encodeURIComponent(any.id)}/visits`, srv.tokens.viewer)).data.items;
    const shown = await page.locator('.org-card ul.visits li').count();
    assert.equal(shown, Math.min(5, visits.length));
    if (visits.length) assert.match(await page.locator('.org-card ul.visits li').first().innerText(), new RegExp(visits[0].date));
    assert.match(await page.locator('.org-card').innerText(), /台账核实/);
    // The ledger-due layer: a checkbox, its tiles and its legend.
    await page.check('#layers input[name="ledger-due"]');
    await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile')].some((i) => i.src.includes('/tiles/ledger-due/')));
    await page.waitForFunction(() => document.querySelector('#legend')?.textContent.includes('台账待核实'));
    assert.ok(await page.locator('button[data-action=run-plan]').isDisabled());
    await done(page, 'org-card-viewer');
  });

  it('assigns an instructor on the map and sees tiles and figures change without a reload', async () => {
    const page = await signedIn('planner');
    const uncoveredBefore = Number(await kpi(page, 'cov.uncovered'));
    // The worst park's first uncovered organization, from the area card.
    await page.click('table.coverage tbody tr:first-child');
    await page.waitForSelector('.area-card ul.plain li button');
    await page.click('.area-card ul.plain li:first-child button');
    await page.waitForSelector('.org-card .picker li');
    const versionBefore = await page.evaluate(() => [...document.querySelectorAll('img.leaflet-tile')].map((i) => i.src).join());
    const free = page.locator('.org-card .picker li', { has: page.locator('.badge:not(.full)') }).first();
    const instructor = await free.getAttribute('data-instructor');
    await free.locator('button').click();
    await page.waitForSelector('.org-card .message:not(.error)');
    assert.match(await page.locator('.org-card dl').innerText(), new RegExp(instructor));
    await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile-loaded')].some((i) => i.src.includes('?v=1')));
    assert.notEqual(await page.evaluate(() => [...document.querySelectorAll('img.leaflet-tile')].map((i) => i.src).join()), versionBefore);
    await page.waitForFunction((n) => Number(document.querySelector('.kpi[data-kpi="cov.uncovered"] b')?.textContent) === n - 1, uncoveredBefore);
    assert.match(await page.locator('.org-card .history').innerText(), /e2e-planner/);
    // The ledger: a reason and a measure, saved (PATCH with If-Match) and shown again.
    await page.fill('.ledger textarea[name=no_branch_reason]', '党员流动性大');
    await page.fill('.ledger textarea[name=measure]', '选派指导员，年内发展党员');
    await page.fill('.ledger input[name=party_members]', '1');
    await page.click('.ledger button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.org-card .message')?.textContent.includes('台账已保存'));
    assert.equal(await page.inputValue('.ledger textarea[name=measure]'), '选派指导员，年内发展党员');
    assert.equal(await page.inputValue('.ledger input[name=party_members]'), '1');
    assert.match(await page.locator('.org-card .history').innerText(), /修改记录/);
    await done(page, 'assigned');
  });

  it('undoes an assignment from the toast, confirms a removal, and lists the area\'s changes', async () => {
    const page = await signedIn('planner');
    await page.click('table.coverage tbody tr:first-child');
    await page.waitForSelector('.area-card ul.plain li button');
    await page.click('.area-card ul.plain li:first-child button');
    await page.waitForSelector('.org-card .picker li');
    const orgId = await page.locator('.org-card').getAttribute('data-org');
    const free = page.locator('.org-card .picker li', { has: page.locator('button.primary:not([disabled])') }).first();
    await free.locator('button').click();
    // The toast offers 撤销 for the change just made; it undoes it.
    const undo = page.locator('#toast button[data-action=undo]');
    await undo.waitFor();
    assert.match(await page.locator('#toast').innerText(), /已指派/);
    await page.screenshot({ path: join(ARTIFACTS, 'undo-toast.png') });
    await undo.click();
    await page.waitForFunction(() => document.querySelector('#toast')?.textContent.includes('已撤销'));
    const after = (await srv.api('GET', `/api/orgs/${encodeURIComponent(orgId)}`, srv.tokens.viewer)).data;
    assert.equal(after.instructor_id, null, 'the undo took the instructor away again');
    // The open card follows the undo; assign again, then remove: the removal asks first, and
    // 取消 leaves it.
    await page.waitForFunction(() => !document.querySelector('.org-card .picker li button.secondary'));
    await page.locator('.org-card .picker li button.primary:not([disabled])').first().click();
    await page.waitForSelector('.org-card .picker li button.secondary');
    await page.locator('.org-card .picker li button.secondary').first().click();
    const dialog = page.locator('dialog.confirm[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /取消“.+”的指导员/);
    await dialog.locator('button[data-action=cancel]').click();
    assert.notEqual((await srv.api('GET', `/api/orgs/${encodeURIComponent(orgId)}`, srv.tokens.viewer)).data.instructor_id, null);
    await page.locator('.org-card .picker li button.secondary').first().click();
    await page.locator('dialog.confirm[open] button[data-action=confirm]').click();
    await page.waitForFunction(async (id) => {
      const r = await fetch(`/api/orgs/${encodeURIComponent(id)}`);
      return (await r.json()).instructor_id === null;
    }, orgId);
    // The area's change log lists the changes, newest first, the undone one marked.
    await page.click('.tabs [data-tab=coverage]');
    await page.click('table.coverage tbody tr:first-child');
    await page.waitForSelector('.area-card .changes li');
    const log = await page.locator('.area-card .changes').innerText();
    assert.match(log, /变更记录/);
    assert.match(log, /取消.+的指导员/);
    assert.match(log, /已撤销/);
    await done(page, 'undo');
  });

  it('explains a full instructor in plain words', async () => {
    // Fill the nearest instructor of an uncovered organization through the API first.
    const orgs = (await srv.api('GET', '/api/orgs?covered=false&limit=40', srv.tokens.viewer)).data.items;
    const target = orgs[0];
    const near = (await srv.api('GET', `/api/orgs/${encodeURIComponent(target.id)}/instructors?limit=1`, srv.tokens.viewer)).data.items[0];
    let load = near.load;
    for (const o of orgs.slice(1)) {
      if (load >= near.capacity) break;
      const cur = (await srv.api('GET', `/api/orgs/${encodeURIComponent(o.id)}`, srv.tokens.viewer)).data;
      const r = await srv.api('PUT', `/api/orgs/${encodeURIComponent(o.id)}/instructor`, srv.tokens.planner, { instructor_id: near.id }, cur.version);
      if (r.status === 200) load += 1;
    }
    assert.equal(load, near.capacity);
    const page = await signedIn('planner');
    await page.fill('#search', target.name);
    await page.click(`#search-results li[data-org="${target.id}"]`);
    // 指派 is off for a full instructor, with the reason beside it, before any request.
    const row = page.locator(`.org-card .picker li[data-instructor="${near.id}"]`);
    await row.waitFor();
    assert.ok(await row.locator('button').isDisabled());
    assert.match(await row.locator('small.reason').innerText(), new RegExp(`已满员（${near.capacity}/${near.capacity}）`));
    await done(page, 'instructor-full');
  });

  it('runs a plan for one street, reads why, and accepts one proposal', async () => {
    const page = await signedIn('planner');
    await page.click('.tabs [data-tab=plans]');
    // The street with the most uncovered organizations, picked under its district.
    const streets = (await srv.api('GET', '/api/coverage?level=street', srv.tokens.viewer)).data.areas;
    const street = streets.filter((a) => a.operating > 0).sort((a, b) => (b.operating - b.work_covered) - (a.operating - a.work_covered))[0];
    const option = page.locator(`div.plan-controls select[name=scope] option[value="${street.code}"]`);
    assert.match(await option.innerText(), new RegExp(`· ${street.name}`), 'a street is named with its district');
    await page.selectOption('div.plan-controls select[name=scope]', street.code);
    await page.selectOption('select[name=level]', 'community');
    await page.click('button[data-action=run-plan]');
    await page.waitForSelector('.proposal-group li input', { timeout: 60000 });
    assert.match(await page.locator('.reach').innerText(), /→/);
    assert.match(await page.locator('.plan-body h3').first().innerText(), new RegExp(`${street.name} · 待采纳`));
    const why = await page.locator('.proposal-group li small.why').allTextContents();
    assert.ok(why.length > 0, 'proposals are listed');
    assert.deepEqual(why.filter((w) => !w.startsWith(street.name)), [], 'each proposal names its street');
    assert.ok(why.every((w) => w.split(' · ')[1]?.length > 4), 'and says why');
    assert.ok(await page.locator('.plan-legend').isVisible(), 'the drawings have a legend');
    await page.locator('.proposal-group li button[data-action=locate]').first().click();
    await page.screenshot({ path: join(ARTIFACTS, 'plan-street.png') });
    await page.click('.tabs [data-tab=coverage]');
    assert.equal(await page.locator('.plan-legend').count(), 0, 'leaving the plan takes its drawings away');
    await page.click('.tabs [data-tab=plans]');
    const first = page.locator('.proposal-group li').first();
    const id = await first.getAttribute('data-proposal');
    await first.locator('input').check();
    await page.click('button[data-action=accept-selected]');
    await page.waitForSelector('.plan-body .message:not(.error)');
    assert.match(await page.locator('.plan-body .message').innerText(), /已采纳 1 项/);
    assert.equal(await page.locator(`.proposal-group li[data-proposal="${id}"]`).count(), 0, 'an accepted proposal leaves the list');
    assert.ok(await page.locator('#toast button[data-action=undo]').isVisible(), 'the accept can be undone');
    // 全部采纳 asks first, with the count; 取消 accepts nothing.
    await page.locator('.proposal-group button[data-action=accept-all]').first().click();
    const dialog = page.locator('dialog.confirm[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /采纳全部 \d+ 项建议/);
    await dialog.locator('button[data-action=cancel]').click();
    assert.match(await page.locator('.plan-body .message').innerText(), /已采纳 1 项/);
    await done(page, 'plan');
  });

  it('exports a shapefile through a normal download', async () => {
    const page = await signedIn('viewer');
    await page.click('.tabs [data-tab=export]');
    await page.selectOption('#tab-export form.export select[name=format]', 'shp');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-action=download]')]);
    assert.match(download.suggestedFilename(), /^全市_组织_\d{4}-\d{2}-\d{2}\.zip$/, 'named after what it holds');
    const file = join(srv.dir, 'orgs.zip');
    await download.saveAs(file);
    const listing = execFileSync('unzip', ['-l', file]).toString();
    for (const ext of ['.shp', '.shx', '.dbf', '.prj', '.cpg']) assert.match(listing, new RegExp(`\\${ext}\\b`));
    assert.ok(!download.url().includes('cm_'), 'no token in the download URL');
    await done(page, 'export');
  });

  it('reads the trend beside its target and downloads this month\'s report', async () => {
    execFileSync(BIN, ['target', 'set', '--db', srv.db, '--value', '90%', '--deadline', '2026-12-31']);
    await new Promise((r) => setTimeout(r, 5200));  // the server re-reads targets every 5 s
    const page = await signedIn('viewer');
    // The coverage panel shows the target beside the rate.
    assert.match(await page.locator('.kpi[data-kpi="cov.org"] small').innerText(), /目标 90\.0 %/);
    await page.click('.tabs [data-tab=report]');
    await page.waitForFunction(() => document.querySelector('#tab-report .chart.trend canvas'));
    assert.match(await page.locator('#tab-report ul.targets li').first().innerText(), /组织覆盖率：目标 90\.0 %/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-action=report]')]);
    const file = join(srv.dir, 'report.pdf');
    await download.saveAs(file);
    const text = execFileSync('pdftotext', [file, '-']).toString();
    const cov = (await srv.api('GET', '/api/coverage?level=district', srv.tokens.viewer)).data.total;
    assert.match(text, /两新组织党建工作月报/);
    assert.ok(text.includes(`${(cov.org_coverage * 100).toFixed(1)}%`), 'the report shows the coverage the API reports');
    await done(page, 'report');
  });

  it('offers only months with data, and lets an admin set and remove a target', async () => {
    const page = await signedIn('admin');
    await page.click('.tabs [data-tab=report]');
    await page.waitForSelector('#tab-report select[name=month] option', { state: 'attached' });
    const offered = await page.$$eval('#tab-report select[name=month] option', (os) => os.map((o) => o.value));
    const history = (await srv.api('GET', '/api/history', srv.tokens.viewer)).data;
    const withData = new Set([history.now.date.slice(0, 7), ...history.points.map((p) => p.date.slice(0, 7))]);
    assert.deepEqual(new Set(offered), withData, 'this month and the months that have a snapshot');
    assert.match(await page.locator('#tab-report select[name=month] option').first().textContent(), /\d{4} 年 \d+ 月/);
    // Set a target for the whole city in the page.
    const form = page.locator('#tab-report form.target-form');
    await form.locator('select[name=metric]').selectOption('work_coverage');
    await form.locator('input[name=value]').fill('95');
    await form.locator('input[name=deadline]').fill('2027-06-30');
    await form.locator('input[name=note]').fill('页面设定');
    await form.locator('button[type=submit]').click();
    const row = page.locator('#tab-report .targets-admin li', { hasText: '页面设定' });
    await row.waitFor();
    assert.match(await row.innerText(), /工作覆盖率 · 全部组织 · 全部区县：95\.0 %，期限 2027-06-30/);
    const made = (await srv.api('GET', '/api/targets', srv.tokens.viewer)).data.items.find((x) => x.note === '页面设定');
    assert.equal(made.value, 0.95);
    // A rate above 100 % is stopped by the form itself (the server refuses it too: WebRoutes tests).
    await form.locator('input[name=value]').fill('150');
    assert.equal(await form.locator('input[name=value]').evaluate((i) => i.checkValidity()), false);
    // Removed after a confirmation.
    await row.locator('button').click();
    await page.locator('dialog.confirm[open] button[data-action=confirm]').click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await srv.api('GET', '/api/targets', srv.tokens.viewer)).data.items.find((x) => x.note === '页面设定'), undefined);
    await done(page, 'targets');
  });

  it('speaks Chinese on every tab at every level: no English word but the names allowed', async () => {
    // Beyond harness.mjs's names: the file formats and coordinate systems the export and the report name.
    const FORMAT_NAMES = ['pdf', 'csv', 'xlsx', 'shapefile', 'geojson', 'geopackage', 'epsg', 'cgcs2000', 'gbk', 'utf-8', 'zip', 'cpg'];
    const page = await signedIn('planner');
    // Something in every tab: an organization's card, a plan with proposals and flags.
    const any = (await srv.api('GET', '/api/orgs?covered=true&limit=1', srv.tokens.viewer)).data.items[0];
    await page.fill('#search', any.name);
    await page.click(`#search-results li[data-org="${any.id}"]`);
    await page.waitForSelector('.org-card h2');
    await page.click('.tabs [data-tab=plans]');
    await page.click('button[data-action=run-plan]');
    await page.waitForSelector('.proposal-group li input', { timeout: 60000 });
    const found = new Map();
    for (const level of ['district', 'park', 'street', 'community', 'grid']) {
      await page.click(`.levels button[data-level=${level}]`);
      await page.waitForTimeout(400);
      for (const tab of ['coverage', 'org', 'plans', 'export', 'report']) {
        await page.click(`.tabs [data-tab=${tab}]`);
        await page.waitForTimeout(150);
        // Codes and ids (with digits, or in parentheses after a name) are not counted as words.
        for (const word of await englishWords(page, FORMAT_NAMES)) found.set(word, `${level}/${tab}`);
      }
    }
    assert.deepEqual([...found.entries()], [], 'English words on the zh-CN page');
    // The two rates say what they count, on hover; the legend says what 工作未覆盖 means.
    await page.click('.tabs [data-tab=coverage]');
    assert.match(await page.locator('.kpi[data-kpi="cov.org"]').getAttribute('title'), /^组织覆盖率：已建立党组织/);
    assert.match(await page.locator('.kpi[data-kpi="cov.work"]').getAttribute('title'), /只有指导员的组织算工作覆盖，不算组织覆盖/);
    assert.match(await page.locator('#legend').textContent(), /工作未覆盖（无党组织也无指导员）/);
    await done(page);
  });

  it('works on a 1024 x 768 tablet and signs out', async () => {
    const page = await signedIn('planner', { width: 1024, height: 768 });
    const side = await page.locator('.side').boundingBox();
    assert.ok(side.x + side.width <= 1024, 'the side panel fits');
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in[open]');
    assert.equal(await page.evaluate(() => localStorage.getItem('covermap.token')), null);
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.name === 'covermap_session' && c.value), 'the session cookie is gone');
    await done(page, 'signed-out');
  });

  for (const [name, viewport] of [['phone', PHONE], ['tablet', { width: 768, height: 1024 }]]) {
    it(`works by touch on a ${viewport.width} x ${viewport.height} ${name}`, async () => {
      const page = await signedIn('planner', viewport, { hasTouch: true, isMobile: true });
      const map = await page.locator('#map').boundingBox();
      assert.ok(map.height >= viewport.height / 2, `the map fills half the first screen (${map.height} px)`);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll');
      for (const tab of await page.locator('.tabs [role=tab]').all()) {
        const box = await tab.boundingBox();
        assert.ok(box.height <= 48, `a tab label on one line (${box.height} px)`);
      }
      assert.equal(await page.locator('#layers-box').getAttribute('open'), null, 'the legend is folded');
      assert.ok(!(await page.locator('#legend').isVisible()));
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
      // By touch: a park, one of its uncovered organizations, an instructor assigned.
      await page.locator('table.coverage tbody tr').first().tap();
      await page.locator('.area-card ul.plain li button').first().waitFor();
      await page.locator('.area-card ul.plain li button').first().tap();
      const assign = page.locator('.org-card .picker li button.primary:not([disabled])').first();
      await assign.waitFor();
      await assign.tap();
      await page.locator('#toast button[data-action=undo]').waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'still no sideways scroll');
      await done(page, `${name}-assigned`);
    });
  }

  it('shows an imported district\'s name as text, never as markup', async () => {
    const name = '<img src=x onerror="document.body.dataset.pwned=1">区';
    const square = [[[123.0, 41.9], [123.1, 41.9], [123.1, 42.0], [123.0, 42.0], [123.0, 41.9]]];
    const body = JSON.stringify({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: { code: '211299', name }, geometry: { type: 'Polygon', coordinates: square } }],
    });
    const res = await fetch(`${srv.base}/api/import/areas?format=geojson&level=district`, {
      method: 'POST', headers: { Authorization: `Bearer ${srv.tokens.admin}`, 'Content-Type': 'application/geo+json' }, body,
    });
    assert.equal(res.status, 201, await res.text());
    const page = await signedIn('viewer');
    const label = page.locator('.area-label', { hasText: '<img' });
    await label.first().waitFor({ timeout: 15000 });
    assert.equal(await label.first().innerText(), name);
    assert.equal(await page.locator('.area-label img').count(), 0, 'no element made from the name');
    assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined);
    await done(page);
  });
});
