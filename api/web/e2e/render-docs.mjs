// Screenshots of the page at the views a planner uses, for README.md (run by scripts/render-docs):
// node render-docs.mjs BASE_URL TOKEN OUT_DIR
import { chromium } from 'playwright-core';

const [base, token, out] = process.argv.slice(2);
const views = {
  'map-county': '#map=9/42.45/124.05&level=park&layers=heatmap,orgs',
  'map-park': '#map=12/42.44/123.62&level=park&layers=heatmap,orgs',
  'map-street': '#map=13/42.29/123.84&level=street&layers=heatmap,orgs',
  'map-community': '#map=15/42.288/123.842&level=community&layers=orgs,assignments',
};
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
for (const [name, hash] of Object.entries(views)) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${base}/${hash}`);
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
  await page.waitForFunction(() => [...document.querySelectorAll('img.leaflet-tile')].every((i) => i.complete), null, { timeout: 30000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png  ${hash}`);
  await page.close();
}
await browser.close();
