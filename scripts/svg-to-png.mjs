// Renders a flame graph SVG to PNG with Debian's headless Chromium (playwright-core), for the
// README's pictures:  node scripts/svg-to-png.mjs in.svg out.png [width]
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [input, output, width = '1200'] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: node scripts/svg-to-png.mjs in.svg out.png [width]');
const svg = readFileSync(input, 'utf8');
const height = Number(/<svg[^>]*\sheight="(\d+)/.exec(svg)?.[1] ?? 800);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height } });
  await page.goto(`file://${path.resolve(input)}`);
  await page.screenshot({ path: output, fullPage: false });
} finally {
  await browser.close();
}
