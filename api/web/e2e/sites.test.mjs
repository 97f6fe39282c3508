// 示范点 in the web page: a planner reads the quotas of the city, the districts and the parks,
// designates a site, removes one and undoes it, keeps the leaders' contact points and downloads
// both lists; a viewer reads only. Debian's chromium driven by playwright-core against a real
// covermap server on a fresh demo store (harness.mjs; the demo carries the policy's quotas for this
// year, some sites and ten contact points). One test per job; none may log a console error.
// Screenshots go to COVERMAP_E2E_ARTIFACTS (default tests/web/artifacts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, PHONE, done, englishWords, launchBrowser, signedInPage, startServer } from './harness.mjs';

// The demo's quotas and sites are for this year in China (2026 when the policy was written), the
// year the tab opens on.
const YEAR = Number(new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 4));
// The policy's county-level quotas the demo sets, and the city's city-level one.
const COUNTY_QUOTAS = { 铁岭县: 30, 开原市: 30, 昌图县: 30, 调兵山市: 30, 西丰县: 20, 银州区: 20, 清河区: 20, 铁岭经济技术开发区: 15, 铁岭高新技术产业开发区: 5 };

let srv, browser;
let districts, parks;

const sites = async (area, level = 'county') =>
  (await srv.api('GET', `/api/sites?${new URLSearchParams({ level, year: String(YEAR), ...(area ? { area } : {}) })}`)).data;

/** A signed-in page on the 示范点 tab, its figures loaded; console errors collected. */
async function sitesTab(role, viewport, device) {
  const page = await signedInPage(browser, srv.base, srv.tokens[role], viewport, device);
  await page.click('.tabs [data-tab=sites]');
  await settled(page);
  return page;
}

/** The tab has read everything again (after a load, an edit, a level switch). */
async function settled(page) {
  await page.waitForSelector('#tab-sites table.quota tbody tr', { timeout: 15000 });
  await page.waitForSelector('#tab-sites[aria-busy=false]', { timeout: 15000 });
}

/** The figures of a row of the quota table: [名额, 已确定, 完成率]. */
const quotaRow = (page, code) => page.$eval(`#tab-sites table.quota tr[data-area="${code}"]`,
  (tr) => [...tr.querySelectorAll('td.quota, td.count, td.rate')].map((td) => td.firstChild.textContent.trim()));

/** Picks an organization in one of the tab's searches: types its name, clicks its result. */
async function pickOrg(page, form, org) {
  await page.fill(`#tab-sites form[data-form=${form}] input[type=search]`, org.name);
  const item = page.locator(`#tab-sites form[data-form=${form}] .org-results li[data-org="${org.id}"]`);
  await item.waitFor();
  return item;
}

/** An organization with a branch that is not yet a county-level site this year. */
async function branchNotSite(skip = new Set()) {
  const taken = new Set((await sites('')).items.map((s) => s.org));
  const orgs = (await srv.api('GET', '/api/orgs?covered=true&limit=500')).data.items;
  return orgs.find((o) => o.state === 'branch' && !taken.has(o.id) && !skip.has(o.id));
}

describe('示范点: demonstration sites and leaders\' contact points', () => {
  before(async () => {
    srv = await startServer({ name: 'sites' });
    browser = await launchBrowser();
    districts = (await srv.api('GET', '/api/areas?level=district&limit=100')).data.items;
    parks = (await srv.api('GET', '/api/areas?level=park&limit=500')).data.items;
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('reads every district\'s and both parks\' quota with its progress, as the API counts them', async () => {
    const page = await sitesTab('planner');
    const shown = [];
    for (const a of [...districts, ...parks]) {
      const d = await sites(a.code);
      if (a.level === 'park' && d.quota === null) {
        assert.equal(await page.locator(`#tab-sites table.quota tr[data-area="${a.code}"]`).count(), 0, `${a.name} has no quota: not listed`);
        continue;
      }
      assert.equal(d.quota, COUNTY_QUOTAS[a.name], `the demo's quota of ${a.name}`);
      const rate = `${(d.count / d.quota * 100).toFixed(1)} %`;
      assert.deepEqual(await quotaRow(page, a.code), [String(d.quota), String(d.count), rate], a.name);
      shown.push(a.name);
    }
    assert.deepEqual(shown.sort(), Object.keys(COUNTY_QUOTAS).sort(), 'seven districts and the two parks with a quota');
    // The city: every county-level site, no county-level quota of its own.
    const city = await sites('');
    assert.deepEqual(await quotaRow(page, ''), ['未设', String(city.count), '—']);
    // The chart draws the same figures, one bar pair per row of the table.
    const chart = await page.evaluate(async () => {
      const echarts = await import('/web/vendor/echarts-6.1.0/echarts.esm.min.mjs');
      const option = echarts.getInstanceByDom(document.querySelector('#tab-sites .sites-chart')).getOption();
      return { names: option.yAxis[0].data, quota: option.series[0].data, count: option.series[1].data.map((x) => x.value) };
    });
    const rows = await page.$$eval('#tab-sites table.quota tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent,
      tr.querySelector('td.quota').textContent, Number(tr.querySelector('td.count').textContent)]));
    const withQuota = rows.filter((r) => r[1] !== '未设');
    assert.deepEqual(chart.names, withQuota.map((r) => r[0]), 'the areas with a quota');
    assert.deepEqual(chart.count, withQuota.map((r) => r[2]));
    assert.deepEqual(chart.quota, withQuota.map((r) => Number(r[1])));
    // The city's list first, newest first, its first 15 rows until 显示全部; a row picks its
    // area, so does a bar.
    const listed = () => page.$$eval('#tab-sites table.sites tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.site)));
    const newest = [...city.items].sort((a, b) => b.since.localeCompare(a.since) || b.id - a.id).map((s) => s.id);
    assert.deepEqual(await listed(), newest.slice(0, 15));
    assert.equal(await page.locator('#tab-sites button[data-action=show-all-sites]').innerText(), `显示全部 ${city.count} 个`);
    await page.click('#tab-sites button[data-action=show-all-sites]');
    assert.deepEqual(await listed(), newest);
    assert.ok(await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth),
      'the page itself does not scroll at 1400 x 900 (the panel does)');
    const yinzhou = districts.find((a) => a.name === '银州区');
    await page.click(`#tab-sites table.quota tr[data-area="${yinzhou.code}"]`);
    await page.waitForFunction((code) => document.querySelector('#tab-sites select[name=area]').value === code, yinzhou.code);
    assert.match(await page.locator('#tab-sites .list-head h3').first().innerText(), new RegExp(`^银州区县级示范点（${YEAR} 年，${(await sites(yinzhou.code)).count} 个）$`));
    assert.equal(await page.locator('#tab-sites table.sites tbody tr').count(), Math.min(15, (await sites(yinzhou.code)).count));
    const park = parks.find((a) => a.name === '铁岭经济技术开发区');
    const bar = await page.evaluate(async (name) => {
      const echarts = await import('/web/vendor/echarts-6.1.0/echarts.esm.min.mjs');
      const box = document.querySelector('#tab-sites .sites-chart');
      const c = echarts.getInstanceByDom(box);
      const i = c.getOption().yAxis[0].data.indexOf(name);
      const [x, y] = c.convertToPixel({ seriesIndex: 1 }, [1, i]);
      const r = box.getBoundingClientRect();
      return { x: r.left + x, y: r.top + y };
    }, park.name);
    await page.mouse.click(bar.x, bar.y);
    await page.waitForFunction((code) => document.querySelector('#tab-sites select[name=area]').value === code, park.code);
    assert.equal(await page.locator('#tab-sites table.sites tbody tr').count(), Math.min(15, (await sites(park.code)).count));
    // City level: the city's quota of 30.
    await page.click('#tab-sites .segmented button[data-level=city]');
    await page.waitForFunction(() => document.querySelector('#tab-sites table.quota td.quota')?.textContent === '30');
    await settled(page);
    const cityLevel = await sites('', 'city');
    assert.equal(cityLevel.quota, 30);
    assert.deepEqual(await quotaRow(page, ''), ['30', String(cityLevel.count), `${(cityLevel.count / 30 * 100).toFixed(1)} %`]);
    // A year without quotas: the districts and the city, no park, no chart, and a word why.
    await page.click('#tab-sites .segmented button[data-level=county]');
    await settled(page);
    await page.selectOption('#tab-sites select[name=year]', String(YEAR - 1));
    await page.waitForFunction(() => document.querySelector('#tab-sites .no-quotas:not([hidden])'));
    await settled(page);
    assert.equal(await page.locator('#tab-sites table.quota tbody tr').count(), 1 + districts.length);
    for (const a of [{ code: '' }, ...districts]) {
      const d = (await srv.api('GET', `/api/sites?${new URLSearchParams({ year: String(YEAR - 1), ...(a.code ? { area: a.code } : {}) })}`)).data;
      assert.deepEqual(await quotaRow(page, a.code), ['未设', String(d.count), '—']);
    }
    assert.ok(!(await page.locator('#tab-sites .sites-chart').isVisible()));
    await page.selectOption('#tab-sites select[name=year]', String(YEAR));
    await page.waitForFunction(() => document.querySelector('#tab-sites .no-quotas[hidden]'));
    await page.click(`#tab-sites table.quota tr[data-area=""]`);
    await settled(page);
    await done(page, 'sites');
  });

  it('designates an organization with a branch and sees the count rise; one without a branch is refused in Chinese', async () => {
    const page = await sitesTab('planner');
    const org = await branchNotSite();
    const cityBefore = (await sites('')).count;
    assert.equal((await quotaRow(page, ''))[1], String(cityBefore));
    const item = await pickOrg(page, 'site', org);
    assert.ok(await item.locator('button').isEnabled());
    await item.locator('button').click();
    assert.match(await page.locator('#tab-sites form[data-form=site] .chosen').innerText(), new RegExp(org.name));
    await page.click('#tab-sites form[data-form=site] button[type=submit]');
    await page.waitForFunction((n) => document.querySelector('#tab-sites table.quota tr[data-area=""] td.count')?.textContent === String(n), cityBefore + 1);
    assert.match(await page.locator('#toast').innerText(), new RegExp(`已设${org.name}为县级党建工作示范点`));
    // The district it lies in counts it too, as the API does.
    const made = (await sites('')).items.find((s) => s.org === org.id);
    assert.ok(made, 'designated');
    const district = await sites(made.area);
    assert.equal((await quotaRow(page, made.area))[1], String(district.count));
    assert.ok(district.items.some((s) => s.org === org.id));
    assert.equal(await page.locator(`#tab-sites table.sites tr[data-org="${org.id}"]`).count(), 1, 'listed');

    // Designated again the same year: the server's refusal, under the form.
    await (await pickOrg(page, 'site', org)).locator('button').click();
    await page.click('#tab-sites form[data-form=site] button[type=submit]');
    const msg = page.locator('#tab-sites form[data-form=site] .message.error');
    await msg.waitFor();
    assert.equal(await msg.innerText(), `未设为示范点：${org.name}已是${YEAR}年的示范点`);
    await page.click('#tab-sites form[data-form=site] .chosen button');

    // No branch: offered but not selectable, with the reason beside it.
    const bare = (await srv.api('GET', '/api/orgs?covered=false&limit=1')).data.items[0];
    const refused = await pickOrg(page, 'site', bare);
    assert.ok(await refused.locator('button').isDisabled());
    assert.equal(await refused.locator('small.reason').innerText(), '尚未建立党组织');
    // A search answer gone stale (a colleague dissolved the branch meanwhile): the server refuses,
    // in its words, under the form.
    const search = (url) => url.pathname === '/api/orgs';
    await page.route(search, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const o of body.items) if (o.id === bare.id) o.state = 'branch';
      await route.fulfill({ response: res, json: body });
    });
    await page.fill('#tab-sites form[data-form=site] input[type=search]', '');
    const stale = await pickOrg(page, 'site', bare);
    await stale.locator('button').click();
    await page.unroute(search);
    await page.click('#tab-sites form[data-form=site] button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#tab-sites form[data-form=site] .message.error:not([hidden])')?.textContent.includes('尚未建立党组织'));
    assert.equal(await msg.innerText(), `未设为示范点：${bare.name}尚未建立党组织，不能设为示范点`);
    assert.equal((await sites('')).count, cityBefore + 1, 'nothing designated');
    // The browser logs each refused request (the two asked for here); nothing else.
    assert.deepEqual(page.errors, Array(2).fill('Failed to load resource: the server responded with a status of 400 (Bad Request)'));
    page.errors = [];
    await done(page);
  });

  it('removes a site after confirming, and undoes it from the toast', async () => {
    const page = await sitesTab('planner');
    const before = await sites('');
    const first = await page.getAttribute('#tab-sites table.sites tbody tr:first-child', 'data-site');
    const site = before.items.find((s) => String(s.id) === first);
    const row = page.locator(`#tab-sites table.sites tr[data-org="${site.org}"]`);
    // 取消 in the dialog leaves it.
    await row.locator('button[data-action=remove-site]').click();
    const dialog = page.locator('dialog.confirm[open]');
    await dialog.waitFor();
    assert.equal(await dialog.locator('p').innerText(), `取消“${site.org_name}”的${YEAR} 年县级示范点？`);
    await dialog.locator('button[data-action=cancel]').click();
    assert.equal((await sites('')).count, before.count);
    await row.locator('button[data-action=remove-site]').click();
    await page.locator('dialog.confirm[open] button[data-action=confirm]').click();
    await row.waitFor({ state: 'detached' });
    await page.waitForFunction((n) => document.querySelector('#tab-sites table.quota tr[data-area=""] td.count')?.textContent === String(n), before.count - 1);
    assert.match(await page.locator('#toast').innerText(), new RegExp(`已取消${site.org_name}的示范点`));
    assert.equal((await sites('')).count, before.count - 1);
    // 撤销 designates it again (a site's change is not reverted through the change log).
    await page.click('#toast button[data-action=undo]');
    await page.waitForFunction((name) => document.querySelector('#toast')?.textContent.includes(`已重新设${name}为县级党建工作示范点`), site.org_name);
    await row.waitFor();
    await page.waitForFunction((n) => document.querySelector('#tab-sites table.quota tr[data-area=""] td.count')?.textContent === String(n), before.count);
    const after = await sites('');
    assert.equal(after.count, before.count);
    assert.ok(after.items.some((s) => s.org === site.org && s.level === 'county' && s.year === YEAR));
    await done(page);
  });

  it('adds and removes a leader\'s contact point; the badge says whether it is already a site', async () => {
    const page = await sitesTab('planner');
    const listed = async () => (await srv.api('GET', '/api/contact-points')).data;
    const badges = () => page.$$eval('#tab-sites table.contacts tbody tr', (trs) => trs.map((tr) => [tr.dataset.contact, tr.querySelector('td.state').textContent]));
    const expect = (data) => data.items.map((p) => [String(p.id), p.is_site ? '已是示范点' : '待建成示范点']);
    const before = await listed();
    assert.equal(before.count, 10, 'the demo\'s ten contact points');
    assert.deepEqual(await badges(), expect(before));
    assert.ok(before.items.some((p) => p.is_site) && before.items.some((p) => !p.is_site), 'both states among them');
    // Leader and post are needed: said under the form, nothing sent.
    const form = page.locator('#tab-sites form[data-form=contact]');
    await form.locator('button[type=submit]').click();
    assert.equal(await form.locator('.message.error').innerText(), '请填写领导干部姓名和职务，并选择联系组织。');
    // One for an organization not yet a site.
    const org = await branchNotSite();
    await form.locator('input[name=leader]').fill('周振华');
    await form.locator('input[name=post]').fill('市委常委、宣传部部长');
    await form.locator('input[name=liaison]').fill('组织部组织二科');
    await (await pickOrg(page, 'contact', org)).locator('button').click();
    await form.locator('button[type=submit]').click();
    const row = page.locator('#tab-sites table.contacts tbody tr', { hasText: '周振华' });
    await row.waitFor();
    assert.match(await page.locator('#toast').innerText(), new RegExp(`已确定市委常委、宣传部部长周振华联系${org.name}`));
    const added = await listed();
    assert.equal(added.count, 11);
    const mine = added.items.find((p) => p.leader === '周振华');
    assert.deepEqual([mine.post, mine.org, mine.liaison, mine.is_site], ['市委常委、宣传部部长', org.id, '组织部组织二科', false]);
    assert.equal(await row.locator('td.state').innerText(), '待建成示范点');
    assert.deepEqual(await badges(), expect(added));
    assert.equal(await form.locator('input[name=leader]').inputValue(), '', 'the form is cleared');
    // Once the organization is designated, the badge turns.
    assert.equal((await srv.api('POST', '/api/sites', srv.tokens.planner, { org: org.id, level: 'county', year: YEAR })).status, 201);
    await page.waitForFunction(() => [...document.querySelectorAll('#tab-sites table.contacts tbody tr')]
      .find((tr) => tr.textContent.includes('周振华'))?.querySelector('td.state').textContent === '已是示范点');
    // Removed after confirming.
    await row.locator('button[data-action=remove-contact]').click();
    const dialog = page.locator('dialog.confirm[open]');
    assert.equal(await dialog.locator('p').innerText(), `删除市委常委、宣传部部长周振华联系“${org.name}”的联系点？`);
    await dialog.locator('button[data-action=confirm]').click();
    await row.waitFor({ state: 'detached' });
    assert.match(await page.locator('#toast').innerText(), new RegExp(`已取消周振华的联系点${org.name}`));
    assert.equal((await listed()).count, 10);
    assert.deepEqual(await badges(), expect(await listed()));
    await done(page);
  });

  it('downloads the site list and the contact points as Excel files', async () => {
    const page = await sitesTab('viewer');
    for (const [action, expected] of [['sites-xlsx', (await sites('')).items[0].org_name],
      ['contacts-xlsx', (await srv.api('GET', '/api/contact-points')).data.items[0].leader]]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#tab-sites a[data-action=${action}]`)]);
      assert.match(download.suggestedFilename(), /\.xlsx$/);
      assert.ok(!download.url().includes('cm_'), 'no token in the download URL');
      const file = join(srv.dir, `${action}.xlsx`);
      await download.saveAs(file);
      assert.equal(readFileSync(file).subarray(0, 2).toString('latin1'), 'PK', `${action}: a zip (xlsx) file`);
      // Read back with another reader: the workbook holds the list's names.
      const strings = execFileSync('unzip', ['-p', file, 'xl/sharedStrings.xml']).toString();
      assert.ok(strings.includes(expected), `${action} holds ${expected}`);
    }
    // The site list's link follows the level and the area picked.
    const district = districts[0];
    await page.click(`#tab-sites table.quota tr[data-area="${district.code}"]`);
    const href = new URL(await page.getAttribute('#tab-sites a[data-action=sites-xlsx]', 'href'), srv.base);
    assert.deepEqual(Object.fromEntries(href.searchParams), { level: 'county', year: String(YEAR), format: 'xlsx', area: district.code });
    await done(page);
  });

  it('opens a planner limited to a district on it, and says in the server\'s words that elsewhere is not theirs', async () => {
    const yinzhou = districts.find((a) => a.name === '银州区');
    srv.tokens.yinzhou = srv.addToken('planner', { area: yinzhou.code, name: 'e2e-yinzhou' }).token;
    const page = await sitesTab('yinzhou');
    assert.equal(await page.inputValue('#tab-sites select[name=area]'), yinzhou.code);
    assert.match(await page.locator('#tab-sites .list-head h3').first().innerText(), /^银州区县级示范点/);
    assert.equal(await page.locator('#tab-sites table.sites tbody tr').count(), Math.min(15, (await sites(yinzhou.code)).count));
    // An organization with a branch in another district: refused, the server's sentence under the form.
    const elsewhere = districts.find((a) => a.name === '开原市');
    const taken = new Set((await sites('')).items.map((x) => x.org));
    const org = (await srv.api('GET', `/api/orgs?area=${elsewhere.code}&covered=true&limit=500`)).data.items.find((o) => o.state === 'branch' && !taken.has(o.id));
    await (await pickOrg(page, 'site', org)).locator('button').click();
    await page.click('#tab-sites form[data-form=site] button[type=submit]');
    const msg = page.locator('#tab-sites form[data-form=site] .message.error');
    await msg.waitFor();
    assert.equal(await msg.innerText(), `未设为示范点：${org.name}不在本账号的区域银州区内`);
    assert.ok(!(await sites('')).items.some((x) => x.org === org.id), 'nothing designated');
    assert.deepEqual(page.errors, ['Failed to load resource: the server responded with a status of 403 (Forbidden)'], 'the refused request, nothing else');
    page.errors = [];
    await done(page);
  });

  it('shows a viewer every figure and list but no form, no delete and no undo', async () => {
    const page = await sitesTab('viewer');
    assert.equal(await page.locator('#tab-sites table.quota tbody tr').count(), 1 + districts.length + 2);
    assert.ok(await page.locator('#tab-sites table.sites tbody tr').count() > 0);
    assert.equal(await page.locator('#tab-sites table.contacts tbody tr').count(), (await srv.api('GET', '/api/contact-points')).data.count);
    assert.equal(await page.locator('#tab-sites form').count(), 0, 'no forms');
    assert.equal(await page.locator('#tab-sites button[data-action^=remove]').count(), 0, 'no delete buttons');
    assert.equal(await page.locator('#tab-sites input').count(), 0);
    // A colleague's designation reaches the viewer's page without a reload.
    const before = (await sites('')).count;
    const org = await branchNotSite();
    assert.equal((await srv.api('POST', '/api/sites', srv.tokens.planner, { org: org.id, level: 'county', year: YEAR })).status, 201);
    await page.waitForFunction((n) => document.querySelector('#tab-sites table.quota tr[data-area=""] td.count')?.textContent === String(n), before + 1, { timeout: 10000 });
    await done(page);
  });

  it('speaks Chinese only on the tab, with its forms and lists open', async () => {
    const page = await sitesTab('planner');
    await page.fill('#tab-sites form[data-form=site] input[type=search]', '铁岭');
    await page.waitForSelector('#tab-sites form[data-form=site] .org-results li small.reason');
    await page.click('#tab-sites form[data-form=site] button[type=submit]');
    await page.click('#tab-sites .segmented button[data-level=city]');
    await settled(page);
    assert.deepEqual(await englishWords(page), [], 'English words on the zh-CN page (city level)');
    await page.click('#tab-sites .segmented button[data-level=county]');
    await settled(page);
    assert.deepEqual(await englishWords(page), [], 'English words on the zh-CN page (county level)');
    await done(page);
  });

  it('fits a 390 x 844 phone: no sideways scroll, lists as cards, designation by touch', async () => {
    const page = await sitesTab('planner', PHONE, { hasTouch: true, isMobile: true });
    const noSideways = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(await noSideways(), 'no sideways scroll');
    assert.equal(await page.locator('#tab-sites table.quota tbody tr').count(), 1 + districts.length + 2, 'the city, the districts, two parks');
    for (const sel of ['table.quota', 'table.sites', 'table.contacts', 'form[data-form=site]', 'form[data-form=contact]', '.sites-chart']) {
      const box = await page.locator(`#tab-sites ${sel}`).boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${sel} fits the screen (${box.x}+${box.width})`);
    }
    await page.locator('#tab-sites .sites-chart').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await page.evaluate(() => window.scrollBy(0, -100));  // below the sticky tab bar, the heading in sight
    await page.screenshot({ path: join(ARTIFACTS, 'sites-phone.png') });
    // A site designated by touch.
    const org = await branchNotSite();
    const before = (await sites('')).count;
    await (await pickOrg(page, 'site', org)).locator('button').tap();
    await page.locator('#tab-sites form[data-form=site] button[type=submit]').tap();
    await page.waitForFunction((n) => document.querySelector('#tab-sites table.quota tr[data-area=""] td.count')?.textContent === String(n), before + 1);
    await page.locator('#toast button[data-action=undo]').waitFor();
    assert.ok(await noSideways(), 'still no sideways scroll');
    assert.deepEqual(await englishWords(page), [], 'English words on the phone');
    await done(page);
  });
});
