// The registry's list dropped on the page, a street's sheet printed, and a deployment's own base
// map: an administrator drops the Excel list, reads what it would change and imports it (then
// undoes it), picks a CSV with bad rows and cancels, is told in words what a broken file is, picks
// the Excel list on a phone and reads its comparison within the screen; a planner sees no import
// and prints a street's sheet from its card; a city with an intranet base map sees it under the
// coverage with its source named, and switches it off; a city without one fetches none. Debian's
// chromium through playwright-core against real covermap servers on fresh demo stores
// (harness.mjs). No console error, no English word on the page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync, deflateSync, inflateRawSync } from 'node:zlib';
import { PHONE, assertFitsWidth, assertTappable, beyondWidth, done, englishWords, launchBrowser, signedInPage, startServer } from './harness.mjs';

const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
// Names the page writes as they are (like Excel): the file formats of the import and of the
// export beside it, its coordinate systems' code (EPSG) and a file ending (.cpg); the token's name.
const FORMAT_NAMES = ['csv', 'xlsx', 'xls', 'shapefile', 'zip', 'geopackage', 'geojson', 'gbk', 'epsg', 'cpg', 'admin'];

// --- Files the test makes: an .xlsx edited in place (a zip of XML), PNG tiles. ---

/** The entries of a zip file: name → bytes. */
function unzip(buf) {
  let eocd = buf.length - 22;
  while (buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i += 1) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28), extraLen = buf.readUInt16LE(at + 30), commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

/** A zip file of the entries (deflated). */
function zip(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0); head.writeUInt16LE(20, 4); head.writeUInt16LE(0x0800, 6); head.writeUInt16LE(8, 8);
    head.writeUInt32LE(crc, 14); head.writeUInt32LE(packed.length, 18); head.writeUInt32LE(data.length, 22); head.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10); central.writeUInt32LE(crc, 16); central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(head, n, packed);
    centrals.push(central, n);
    offset += head.length + n.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.size, 8); end.writeUInt16LE(files.size, 10);
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const xmlText = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlUnText = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** The first sheet of an .xlsx as the server exports it, to read and edit cell by cell. */
class Workbook {
  constructor(bytes) {
    this.files = unzip(bytes);
    this.sheet = this.files.get('xl/worksheets/sheet1.xml').toString('utf8');
    const sst = this.files.get('xl/sharedStrings.xml').toString('utf8');
    this.strings = [...sst.matchAll(/<si>\s*<t[^>]*>([\s\S]*?)<\/t>\s*<\/si>/g)].map((m) => xmlUnText(m[1]));
    this.added = [];
  }
  rows() { return [...this.sheet.matchAll(/<row r="(\d+)"[^>]*>[\s\S]*?<\/row>/g)].map((m) => ({ r: Number(m[1]), xml: m[0] })); }
  /** The value of a cell (A1 style), text or number as text; '' when empty. */
  cell(ref) {
    const m = new RegExp(`<c r="${ref}"( t="(\\w+)")?[^>]*>\\s*<v>([\\s\\S]*?)</v>\\s*</c>`).exec(this.sheet);
    if (!m) return '';
    return m[2] === 's' ? this.strings[Number(m[3])] : m[3];
  }
  /** The column letter of a header. */
  column(header) {
    for (let i = 0; i < 26; i += 1) {
      const letter = String.fromCharCode(65 + i);
      if (this.cell(`${letter}1`) === header) return letter;
    }
    throw new Error(`no column ${header}`);
  }
  #string(text) {
    this.strings.push(text);
    this.added.push(text);
    return this.strings.length - 1;
  }
  #cellXml(ref, value) {
    return typeof value === 'number' ? `<c r="${ref}"><v>${value}</v></c>` : `<c r="${ref}" t="s"><v>${this.#string(value)}</v></c>`;
  }
  /** Sets a cell (a number stays a number, text goes to the shared strings). */
  set(ref, value) {
    const re = new RegExp(`<c r="${ref}"[^>]*?(/>|>[\\s\\S]*?</c>)`);
    if (re.test(this.sheet)) { this.sheet = this.sheet.replace(re, this.#cellXml(ref, value)); return; }
    // An empty cell: placed in its row in column order.
    const row = /\d+$/.exec(ref)[0];
    const rowRe = new RegExp(`<row r="${row}"[^>]*>([\\s\\S]*?)</row>`);
    this.sheet = this.sheet.replace(rowRe, (whole, body) => {
      const cells = [...body.matchAll(/<c r="([A-Z]+)\d+"[\s\S]*?(?:\/>|<\/c>)/g)].map((m) => ({ col: m[1], xml: m[0] }));
      cells.push({ col: ref.replace(/\d+$/, ''), xml: this.#cellXml(ref, value) });
      cells.sort((a, b) => a.col.localeCompare(b.col));
      return `<row r="${row}">${cells.map((c) => c.xml).join('')}</row>`;
    });
  }
  removeRow(r) { this.sheet = this.sheet.replace(new RegExp(`<row r="${r}"[^>]*>[\\s\\S]*?</row>\\s*`), ''); }
  /** A copy of row `from` as row `to`, then `values` ({column letter: value}) set in it. */
  copyRow(from, to, values) {
    const xml = this.rows().find((x) => x.r === from).xml.replace(/<row r="\d+"/, `<row r="${to}"`).replace(/(<c r="[A-Z]+)\d+"/g, `$1${to}"`);
    this.sheet = this.sheet.replace('</sheetData>', `${xml}\n</sheetData>`);
    for (const [col, v] of Object.entries(values)) this.set(`${col}${to}`, v);
  }
  bytes() {
    let sst = this.files.get('xl/sharedStrings.xml').toString('utf8');
    sst = sst.replace('</sst>', `${this.added.map((s) => `<si><t>${xmlText(s)}</t></si>`).join('')}</sst>`)
      .replace(/uniqueCount="\d+"/, `uniqueCount="${this.strings.length}"`).replace(/ count="\d+"/, ` count="${this.strings.length}"`);
    const files = new Map(this.files);
    files.set('xl/sharedStrings.xml', Buffer.from(sst, 'utf8'));
    files.set('xl/worksheets/sheet1.xml', Buffer.from(this.sheet, 'utf8'));
    return zip(files);
  }
}

/** A 256 × 256 PNG: a pale green ground, a white road across its middle each way, thin edges
 *  (tiles side by side read as a street grid). */
function tilePng(shade) {
  const size = 256;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y += 1) {
    const row = y * (size * 3 + 1);
    raw[row] = 0;  // no filter
    for (let x = 0; x < size; x += 1) {
      let rgb = [222 - shade, 236 - shade, 214 - shade];
      if (Math.abs(x - 128) < 3 || Math.abs(y - 128) < 3) rgb = [255, 255, 255];
      if (x === 0 || y === 0) rgb = [190, 198, 186];
      raw.set(rgb, row + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A local tile directory {z}/{x}/{y}.png: far around Tieling at the zooms the whole city is
 *  seen at, around the test's street view at 10 to 12 (every tile the page asks for in these
 *  tests, so that no request ends in a 404). */
function tileDirectory() {
  const dir = mkdtempSync(join(tmpdir(), 'covermap-basemap-'));
  const tiles = [tilePng(0), tilePng(10)];
  const tx = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const ty = (lat, z) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  const ranges = [[6, 9, [114, 34, 134, 50]], [10, 10, [120.5, 40, 127.5, 45]], [11, 12, [122.8, 41.6, 124.9, 43]]];
  for (const [from, to, [w, s, e, n]] of ranges) {
    for (let z = from; z <= to; z += 1) {
      for (let x = tx(w, z); x <= tx(e, z); x += 1) {
        mkdirSync(join(dir, String(z), String(x)), { recursive: true });
        for (let y = ty(n, z); y <= ty(s, z); y += 1) writeFileSync(join(dir, String(z), String(x), `${y}.png`), tiles[(x + y) % 2]);
      }
    }
  }
  return dir;
}

// --- The page. ---

/** Drops files on the import's drop zone, as a person dragging them from the desktop would. */
async function drop(page, files) {
  const payload = files.map((f) => ({ name: f.name, type: f.type ?? '', b64: Buffer.from(f.bytes).toString('base64') }));
  const dt = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, payload);
  await page.dispatchEvent('#import-orgs .drop-zone', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('#import-orgs .drop-zone', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('#import-orgs .drop-zone', 'drop', { dataTransfer: dt });
}

/** The four counts of the comparison: {added, updated, deregistered, rejected}. */
const counts = (page) => page.$$eval('#import-orgs .import-counts .kpi', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.count, Number(d.querySelector('b').textContent)])));

/** The comparison shown (the file name in its title) after the server answered. */
async function preview(page, name) {
  await page.waitForFunction((n) => document.querySelector('#import-orgs .import-preview h3')?.textContent.includes(n)
    && document.querySelector('#import-orgs .drop-zone')?.getAttribute('aria-busy') === 'false', name, { timeout: 60000 });
}

/** The lines of a group of the comparison, as shown. */
const lines = (page, group) => page.$$eval(`#import-orgs details[data-group=${group}] > ul > li`, (lis) => lis.map((li) => li.textContent.replace(/\s+/g, ' ').trim()));

describe('导入组织名册 and 打印 (a server without a base map)', () => {
  let srv, browser, adminCsv, xlsx;
  before(async () => {
    srv = await startServer({ name: 'import' });
    browser = await launchBrowser();
    const get = async (path) => Buffer.from(await (await fetch(srv.base + path, { headers: { Authorization: `Bearer ${srv.tokens.admin}` } })).arrayBuffer());
    xlsx = await get('/api/export/orgs?format=xlsx');
    adminCsv = (await get('/api/export/orgs?format=csv&encoding=UTF-8')).toString('utf8').replace(/^\uFEFF/, '');
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('an administrator drops the registry\'s Excel list, reads what it changes, imports it and undoes it', async () => {
    const org = async (id) => (await srv.api('GET', `/api/orgs/${encodeURIComponent(id)}`, srv.tokens.admin)).data;
    // The list as exported today, edited as the registry would send it: two organizations with
    // other figures, one renamed, a new one, one row whose staff count is text, and the last
    // two organizations gone from it.
    const book = new Workbook(xlsx);
    const col = { id: book.column('组织编号'), name: book.column('组织名称'), code: book.column('统一社会信用代码'), staff: book.column('从业人员数') };
    const rows = book.rows();
    const last = rows[rows.length - 1].r;
    const at = (r) => ({ id: book.cell(`${col.id}${r}`), name: book.cell(`${col.name}${r}`), staff: book.cell(`${col.staff}${r}`) });
    const [a, b, c, bad] = [at(2), at(3), at(4), at(6)];
    const gone = [at(last - 1), at(last)];
    book.set(`${col.staff}2`, Number(a.staff) + 40);
    book.set(`${col.staff}3`, Number(b.staff) + 7);
    const renamed = `${c.name}（更名）`;
    book.set(`${col.name}4`, renamed);
    book.set(`${col.staff}6`, '很多');
    book.removeRow(last);
    book.removeRow(last - 1);
    const added = { id: 'xz-2026-001', name: '铁岭新开商贸有限公司' };
    book.copyRow(5, last - 1, { [col.id]: added.id, [col.name]: added.name, [col.code]: '91211200MA0TEST01X' });
    const file = { name: '两新组织名册.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes: book.bytes() };
    const before = await org(a.id);

    const page = await signedInPage(browser, srv.base, srv.tokens.admin);
    assert.equal(await page.locator('.tabs [data-tab=export]').innerText(), '导入导出', 'the administrator\'s tab says both');
    await page.click('.tabs [data-tab=export]');
    await page.waitForSelector('#import-orgs .drop-zone');
    assert.ok(await page.isVisible('#tab-export a[data-action=download]'), 'the export stays where it was');
    // The upload at a slow line's pace: its progress shows, then the server's comparing.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await page.evaluate(() => {
      const seen = [];
      document.querySelector('#import-orgs').dataset.seen = '';
      new MutationObserver(() => {
        const s = document.querySelector('#import-orgs .import-status');
        const bar = s.querySelector('progress');
        const mark = `${s.dataset.phase}:${bar?.hasAttribute('value') ? bar.value : '-'}`;
        if (!s.hidden && seen.at(-1) !== mark) seen.push(mark);
        document.querySelector('#import-orgs').dataset.seen = seen.join(' ');
      }).observe(document.querySelector('#import-orgs .import-status'), { childList: true, subtree: true, attributes: true });
    });
    await drop(page, [file]);
    await preview(page, file.name);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const seen = (await page.getAttribute('#import-orgs', 'data-seen')).split(' ');
    assert.ok(seen.some((s) => /^upload:([1-9]\d?)$/.test(s)), `the upload's progress between 0 and 100 %: ${seen}`);
    assert.ok(seen.includes('compare:-'), `then 正在比对 without a known length: ${seen}`);
    // Nothing written by the dry run.
    assert.equal((await org(a.id)).employees, before.employees);

    assert.deepEqual(await counts(page), { added: 1, updated: 3, deregistered: 0, rejected: 1 });
    const changed = await lines(page, 'updated');
    assert.ok(changed.some((l) => l.startsWith(a.name) && l.includes(`${a.staff} → ${Number(a.staff) + 40}`)), `${a.name}: its staff before → after: ${changed}`);
    assert.ok(changed.some((l) => l.startsWith(b.name) && l.includes(`${b.staff} → ${Number(b.staff) + 7}`)), changed.join('\n'));
    assert.ok(changed.some((l) => l.startsWith(c.name) && l.includes(`${c.name} → ${renamed}`)), changed.join('\n'));
    assert.ok(changed.every((l) => /[\u4e00-\u9fff]+：/.test(l)), `each field by its Chinese name: ${changed}`);
    assert.deepEqual(await lines(page, 'added'), [`${added.name} 编号 ${added.id}`]);
    const errors = await lines(page, 'rejected');
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^第 6 行：.*[\u4e00-\u9fff]/, `the bad row by its number, why in Chinese: ${errors[0]}`);
    assert.deepEqual(await englishWords(page, FORMAT_NAMES), []);
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, 'web-import.png') });

    // Organizations missing from the list deregistered: compared again, the two named (the
    // organization of the row that could not be read is not missing: it stays).
    await page.check('#import-orgs input[name=missing]');
    await page.waitForFunction(() => Number(document.querySelector('#import-orgs .import-counts [data-count=deregistered] b')?.textContent) > 0, null, { timeout: 60000 });
    const deregistered = (await lines(page, 'deregistered')).map((l) => l.replace(/ 编号 .*$/, '')).sort();
    const ends = gone;
    assert.deepEqual(deregistered, ends.map((g) => g.name).sort());
    const off = ends.length;

    // 确认导入 asks first; 取消 writes nothing.
    await page.click('#import-orgs button[data-action=import-confirm]');
    const dialog = page.locator('dialog.confirm[open]');
    assert.match(await dialog.innerText(), new RegExp(`新增 1 家、变更 3 家、注销 ${off} 家组织。有错误的 1 行不导入。导入后可以撤销。`));
    await dialog.locator('button[data-action=cancel]').click();
    assert.equal((await org(a.id)).employees, before.employees, 'cancelled: nothing written');
    await page.click('#import-orgs button[data-action=import-confirm]');
    await page.click('dialog.confirm[open] button[data-action=confirm]');
    const undo = page.locator('#toast button[data-action=undo]');
    await undo.waitFor({ timeout: 60000 });
    assert.match(await page.locator('#toast').innerText(), new RegExp(`已导入组织名册：新增 1 家，变更 3 家，注销 ${off} 家`));
    assert.match(await page.innerText('#import-orgs .import-preview'), /已导入组织名册/);
    // Written, as one change: the figures, the name, the new one, the two deregistered; the bad row skipped.
    assert.equal((await org(a.id)).employees, Number(a.staff) + 40);
    assert.equal((await org(c.id)).name, renamed);
    assert.equal((await org(added.id)).name, added.name);
    for (const g of ends) assert.equal((await org(g.id)).status, 'deregistered', `${g.name} deregistered`);
    assert.equal((await org(bad.id)).employees, Number(bad.staff), 'the bad row left as it was');
    assert.notEqual((await org(bad.id)).status, 'deregistered', 'the bad row\'s organization not deregistered');
    const change = Number(await undo.getAttribute('data-change'));
    const log = (await srv.api('GET', '/api/changes?limit=5', srv.tokens.admin)).data.items;
    assert.equal(log[0].id, change, 'the import is the newest change');

    // 撤销: everything back as it was.
    await undo.click();
    await page.waitForFunction(() => document.querySelector('#toast')?.innerText.includes('已撤销'), null, { timeout: 30000 });
    assert.equal((await org(a.id)).employees, before.employees);
    assert.equal((await org(c.id)).name, c.name);
    for (const g of ends) assert.notEqual((await org(g.id)).status, 'deregistered', `${g.name} operating again`);
    const gotBack = await srv.api('GET', `/api/orgs/${encodeURIComponent(added.id)}`, srv.tokens.admin);
    assert.equal(gotBack.status, 404, 'the added one is gone again');
    await done(page, 'import-xlsx');
  });

  it('an administrator picks a CSV list with bad rows, reads the row errors in Chinese and cancels', async () => {
    // The CSV export (its own column names), one organization's phone changed, a row with text
    // where a number goes, a row with no coordinates.
    const [head, ...body] = adminCsv.trimEnd().split(/\r?\n/);
    const cols = head.split(',');
    const cut = (line) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g).slice(0, cols.length).map((x) => x.replace(/,$/, ''));
    const rows = body.slice(0, 40).map(cut);
    const i = (name) => cols.indexOf(name);
    const phone = rows[0];
    phone[i('phone')] = '024-72812345';
    const badStaff = [...rows[1]];
    badStaff[i('employees')] = '"二十"';
    rows[1] = badStaff;
    const badPlace = [...rows[2]];
    badPlace[i('X')] = '东经';
    rows[2] = badPlace;
    const csv = Buffer.from(`\uFEFF${[head, ...rows.map((r) => r.join(','))].join('\r\n')}\r\n`, 'utf8');
    const unquote = (v) => v.replace(/^"|"$/g, '');
    const page = await signedInPage(browser, srv.base, srv.tokens.admin);
    await page.click('.tabs [data-tab=export]');
    await page.setInputFiles('#import-orgs input[type=file]', { name: '名册.csv', mimeType: 'text/csv', buffer: csv });
    await preview(page, '名册.csv');
    const n = await counts(page);
    assert.equal(n.rejected, 2, 'two rows not read');
    assert.equal(n.added, 0);
    assert.ok(n.updated >= 1, `the phone at least: ${JSON.stringify(n)}`);
    const changed = await lines(page, 'updated');
    assert.ok(changed.some((l) => l.startsWith(unquote(phone[i('name')])) && l.includes('→ 024-72812345')), changed.join('\n'));
    const errors = await lines(page, 'rejected');
    assert.deepEqual(errors.map((l) => l.replace(/：.*/, '')), ['第 3 行', '第 4 行'], 'rows by their number in the file (the header is row 1)');
    for (const e of errors) assert.match(e, /：.*[\u4e00-\u9fff]/, `why, in Chinese: ${e}`);
    assert.deepEqual(await englishWords(page, FORMAT_NAMES), []);
    // 取消: the comparison goes, nothing was written.
    await page.click('#import-orgs button[data-action=import-cancel]');
    assert.equal(await page.locator('#import-orgs .import-preview *').count(), 0);
    const id = unquote(phone[i('id')]);
    assert.notEqual((await srv.api('GET', `/api/orgs/${encodeURIComponent(id)}`, srv.tokens.admin)).data.phone, '024-72812345');
    await done(page);
  });

  it('on a phone: an administrator picks the Excel list, reads the comparison within the screen, and cancels', async () => {
    const org = async (id) => (await srv.api('GET', `/api/orgs/${encodeURIComponent(id)}`, srv.tokens.admin)).data;
    // The list as exported today, edited: one organization's staff, one renamed at length (its
    // line before → after must wrap), a new one with a long name, one row whose staff count is text.
    const book = new Workbook(xlsx);
    const col = { id: book.column('组织编号'), name: book.column('组织名称'), code: book.column('统一社会信用代码'), staff: book.column('从业人员数') };
    const last = book.rows().at(-1).r;
    const at = (r) => ({ id: book.cell(`${col.id}${r}`), name: book.cell(`${col.name}${r}`), staff: book.cell(`${col.staff}${r}`) });
    const [a, c] = [at(2), at(4)];
    book.set(`${col.staff}2`, Number(a.staff) + 40);
    const renamed = `${c.name}（更名为铁岭市两新组织党建工作服务中心第一联络站）`;
    book.set(`${col.name}4`, renamed);
    book.set(`${col.staff}6`, '很多');
    const added = { id: 'xz-2026-phone', name: '铁岭市新开发区现代物流与电子商务产业园综合服务有限责任公司' };
    book.copyRow(5, last + 1, { [col.id]: added.id, [col.name]: added.name, [col.code]: '91211200MA0TEST02X' });
    const file = { name: '两新组织名册（手机）.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: book.bytes() };
    const before = await org(a.id);

    const page = await signedInPage(browser, srv.base, srv.tokens.admin, PHONE, { isMobile: true, hasTouch: true });
    await page.tap('.tabs [data-tab=export]');
    const zone = page.locator('#import-orgs .drop-zone');
    await zone.waitFor();
    // The drop zone and its 选择文件… within the screen; nothing of the panel past its edges.
    await assertFitsWidth(page, 'the import panel');
    assert.deepEqual(await beyondWidth(page, '#import-orgs'), []);
    await zone.scrollIntoViewIfNeeded();
    const z = await zone.boundingBox();
    assert.ok(z.x >= 0 && z.x + z.width <= PHONE.width && z.y >= 0 && z.y + z.height <= PHONE.height, `the drop zone within the screen: ${JSON.stringify(z)}`);
    const pick = page.locator('#import-orgs button[data-action=import-pick]');
    assert.equal(await pick.innerText(), '选择文件…');
    await assertTappable(pick, '选择文件…');

    // 选择文件… opens the phone's file picker; the list picked there is compared.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), pick.tap()]);
    await chooser.setFiles(file);
    await preview(page, file.name);
    assert.deepEqual(await counts(page), { added: 1, updated: 2, deregistered: 0, rejected: 1 });
    const changed = await lines(page, 'updated');
    assert.ok(changed.some((l) => l.startsWith(c.name) && l.includes(`${c.name} → ${renamed}`)), changed.join('\n'));
    assert.deepEqual(await lines(page, 'added'), [`${added.name} 编号 ${added.id}`]);
    const errors = await lines(page, 'rejected');
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^第 6 行：.*[\u4e00-\u9fff]/);
    // Readable: the comparison, brought up when it is ready, starts below the sticky tab bar (not
    // behind it); its lists wrap within the screen's width (or scroll in a box of their own).
    const tabs = await page.locator('.tabs').boundingBox();
    const title = await page.locator('#import-orgs .import-preview h3').boundingBox();
    assert.ok(title.y >= tabs.y + tabs.height - 0.5 && title.y + title.height <= PHONE.height, `the comparison's title on screen, below the tabs: ${JSON.stringify({ tabs, title })}`);
    await assertFitsWidth(page, 'the comparison');
    assert.deepEqual(await beyondWidth(page, '#import-orgs'), []);
    for (const group of ['updated', 'added', 'rejected']) {
      const box = await page.locator(`#import-orgs details[data-group=${group}]`).boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${group}: within the screen's width`);
    }
    assert.deepEqual(await englishWords(page, FORMAT_NAMES), []);
    const confirm = page.locator('#import-orgs button[data-action=import-confirm]');
    const cancel = page.locator('#import-orgs button[data-action=import-cancel]');
    assert.equal(await confirm.innerText(), '确认导入');
    assert.equal(await cancel.innerText(), '取消');
    await assertTappable(confirm, '确认导入');
    await assertTappable(cancel, '取消');

    // 确认导入 by a tap asks first, its question within the screen; 取消 there writes nothing.
    await confirm.tap();
    const dialog = page.locator('dialog.confirm[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /新增 1 家、变更 2 家、注销 0 家组织。有错误的 1 行不导入。/);
    assert.deepEqual(await beyondWidth(page, 'dialog.confirm[open]'), []);
    await assertTappable(dialog.locator('button[data-action=cancel]'), '取消 (dialog)');
    await dialog.locator('button[data-action=cancel]').tap();
    await dialog.waitFor({ state: 'hidden' });
    // 取消 by a tap: the comparison goes, nothing was written.
    await assertTappable(cancel, '取消');
    await cancel.tap();
    await page.waitForFunction(() => document.querySelectorAll('#import-orgs .import-preview *').length === 0);
    assert.equal((await org(a.id)).employees, before.employees, 'nothing written');
    assert.equal((await org(c.id)).name, c.name);
    assert.equal((await srv.api('GET', `/api/orgs/${encodeURIComponent(added.id)}`, srv.tokens.admin)).status, 404, 'the new one not added');
    await assertFitsWidth(page, 'after 取消');
    await done(page);
  });

  it('a file that is not a list is refused in words beside the drop zone', async () => {
    const page = await signedInPage(browser, srv.base, srv.tokens.admin);
    await page.click('.tabs [data-tab=export]');
    const error = page.locator('#import-orgs p.message.error');
    // Not a spreadsheet at all: said before any upload.
    await drop(page, [{ name: '说明.txt', type: 'text/plain', bytes: Buffer.from('你好') }]);
    await error.waitFor();
    assert.match(await error.innerText(), /“说明\.txt”不是 Excel（xlsx）或 CSV 文件/);
    // A broken .xlsx: the server cannot read it (400); the page says so in Chinese.
    await drop(page, [{ name: '坏文件.xlsx', bytes: Buffer.from('这不是一个表格文件'.repeat(50)) }]);
    await page.waitForFunction(() => document.querySelector('#import-orgs p.message.error')?.textContent.includes('坏文件.xlsx'), null, { timeout: 30000 });
    assert.match(await error.innerText(), /“坏文件\.xlsx”无法读取/);
    assert.equal(await page.locator('#import-orgs .import-preview *').count(), 0, 'no comparison shown');
    const box = await page.locator('#import-orgs .drop-zone').boundingBox();
    const msg = await error.boundingBox();
    assert.ok(msg.y - (box.y + box.height) < 80, 'the error right under the drop zone');
    assert.deepEqual(await englishWords(page, FORMAT_NAMES), []);
    // 400 answers are expected here; the page logs nothing of its own.
    page.errors = page.errors.filter((e) => !/status of 400/.test(e));
    await done(page);
  });

  it('a planner sees no import, and prints a street\'s sheet from its card', async () => {
    const requests = [];
    const page = await signedInPage(browser, srv.base, srv.tokens.planner);
    page.on('request', (r) => requests.push(r.url()));
    assert.equal(await page.locator('.tabs [data-tab=export]').innerText(), '导出');
    await page.click('.tabs [data-tab=export]');
    assert.equal(await page.locator('#import-orgs').isHidden(), true);
    assert.equal(await page.locator('#import-orgs .drop-zone').count(), 0);
    // A street's card: 打印 downloads the street's sheet, an A4 PDF named after it.
    await page.click('.tabs [data-tab=coverage]');
    await page.click('.levels [data-level=street]');
    await page.waitForFunction(() => document.querySelector('#tab-coverage h2')?.textContent === '街道覆盖情况');
    const row = page.locator('#tab-coverage table.coverage tbody tr').first();
    await row.waitFor();
    const code = await row.getAttribute('data-code');
    const name = (await row.locator('td').first().innerText()).trim();
    await row.click();
    const print = page.locator('#tab-coverage .area-card button[data-action=print]');
    await print.waitFor();
    assert.equal(await print.innerText(), '打印');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), print.click()]);
    assert.ok(requests.some((u) => u.endsWith(`/api/print?area=${code}`)), 'the sheet of this street');
    assert.match(download.suggestedFilename(), /\.pdf$/);
    assert.ok(download.suggestedFilename().includes(name), `named after ${name}: ${download.suggestedFilename()}`);
    const pdf = readFileSync(await download.path());
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.toString('latin1'), /\/MediaBox \[\s*0 0 595(\.\d+)? 84[12](\.\d+)?\s*\]/, 'A4 portrait');
    await page.waitForFunction(() => document.querySelector('#tab-coverage .area-card button[data-action=print]')?.textContent === '打印');
    assert.deepEqual(await englishWords(page), []);
    // No base map configured: none drawn, none asked for, no switch.
    assert.equal(await page.locator('.leaflet-basemap-pane img').count(), 0);
    assert.equal(await page.locator('.basemap-switch').count(), 0);
    assert.deepEqual(requests.filter((u) => u.includes('/basemap')), []);
    await done(page, 'print-card');
  });
});

describe('底图 (a server with a local base map)', () => {
  let srv, browser, tiles;
  before(async () => {
    tiles = tileDirectory();
    srv = await startServer({ name: 'basemap', serveArgs: ['--basemap', tiles, '--basemap-attribution', '天地图 测试'] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    srv?.stop();
    if (tiles) rmSync(tiles, { recursive: true, force: true });
  });

  it('a planner sees the city\'s own base map under the coverage, its source named, and switches it off and on', async () => {
    const requests = [];
    const page = await signedInPage(browser, srv.base, srv.tokens.planner);
    page.on('request', (r) => requests.push(r.url()));
    // A street's view, the base map tiles all loaded.
    await page.goto(`${srv.base}/#map=12/42.29/123.84&level=street&layers=orgs`);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    const loaded = () => page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('.leaflet-basemap-pane img.leaflet-tile')];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth === 256);
    }, null, { timeout: 30000 });
    await loaded();
    const asked = requests.filter((u) => new URL(u).pathname.startsWith('/basemap/'));
    assert.ok(asked.length >= 4, `the page asks covermap for its base map tiles: ${asked.length}`);
    assert.ok(asked.every((u) => /\/basemap\/12\/\d+\/\d+$/.test(new URL(u).pathname)), asked.slice(0, 3).join(' '));
    // Under everything covermap draws: the districts' paper (see-through now) and the coverage tiles.
    const z = await page.evaluate(() => Object.fromEntries(['basemap', 'base', 'tile'].map((p) => [p, Number(getComputedStyle(document.querySelector(`.leaflet-${p}-pane`)).zIndex)])));
    assert.ok(z.basemap < z.base && z.base < z.tile, JSON.stringify(z));
    const paper = () => page.$eval('.leaflet-base-pane path', (p) => Number(p.getAttribute('fill-opacity')));
    assert.equal(await paper(), 0, 'the districts\' paper is see-through over the base map');
    const attribution = page.locator('.leaflet-control-attribution');
    assert.match(await attribution.innerText(), /天地图 测试/);
    assert.deepEqual(await englishWords(page), []);
    await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile')].every((i) => i.complete), null, { timeout: 30000 });
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, 'web-basemap.png') });

    // The switch: 底图 off — no base map tiles, its source gone from the attribution, paper back.
    const box = page.locator('.basemap-switch label', { hasText: '底图' });
    assert.equal(await box.locator('input').isChecked(), true);
    await box.locator('input').uncheck();
    assert.equal(await page.locator('.leaflet-basemap-pane img').count(), 0);
    assert.doesNotMatch(await attribution.innerText(), /天地图/);
    assert.equal(await paper(), 1);
    // Remembered in this browser: still off after a reload, nothing fetched.
    const before = requests.length;
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    assert.equal(await page.locator('.basemap-switch input').isChecked(), false);
    assert.deepEqual(requests.slice(before).filter((u) => new URL(u).pathname.startsWith('/basemap/')), []);
    // On again.
    await page.locator('.basemap-switch input').check();
    await loaded();
    assert.match(await attribution.innerText(), /天地图 测试/);
    assert.equal(await paper(), 0);
    await done(page, 'basemap');
  });
});
