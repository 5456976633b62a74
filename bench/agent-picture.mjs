#!/usr/bin/env node
// Makes docs/agent-pyroscope.png: a gunicorn app under load is profiled by `pyflame-ts agent`,
// which pushes to a real Pyroscope on 127.0.0.1; the profile is then read back through the
// server's query API (/pyroscope/render), turned into folded stacks, drawn by
// `pyflame-ts render`, and screenshotted with headless Chromium (playwright-core).
//
//   node bench/agent-picture.mjs [--seconds=30] [--out=docs/agent-pyroscope.png]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const seconds = Number(arg('seconds', 30));
const out = path.resolve(root, arg('out', 'docs/agent-pyroscope.png'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const get = (port, p = '/') =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
  });
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Pyroscope's flamebearer (levels of [x delta, total, self, name] runs) → folded stacks. */
export function flamebearerToFolded({ names, levels }, unitNs) {
  const blocks = levels.map((level) => {
    const row = [];
    let prevEnd = 0;
    for (let i = 0; i + 3 < level.length; i += 4) {
      const x = level[i] + prevEnd;
      row.push({ x, total: level[i + 1], self: level[i + 2], name: names[level[i + 3]] });
      prevEnd = x + level[i + 1];
    }
    return row;
  });
  const lines = new Map();
  const pathOf = new Map();
  blocks.forEach((row, depth) => {
    for (const block of row) {
      const parent = depth === 0 ? undefined : blocks[depth - 1].find((p) => block.x >= p.x && block.x < p.x + p.total);
      const stack = depth === 0 ? [] : [...(pathOf.get(parent) ?? []), block.name];
      pathOf.set(block, stack);
      const count = Math.round(block.self / unitNs);
      if (depth > 0 && count > 0) lines.set(stack.join(';'), (lines.get(stack.join(';')) ?? 0) + count);
    }
  });
  return [...lines].map(([s, n]) => `${s} ${n}`).join('\n') + '\n';
}

const bin = execFileSync(path.join(root, 'scripts/pyroscope/build.sh'), { encoding: 'utf8' }).trim();
const venvPython = execFileSync(path.join(root, 'scripts/ci/gunicorn.sh'), { encoding: 'utf8' }).trim();
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-agent-picture-'));
const ports = [await freePort(), await freePort(), await freePort()];
const server = spawn(path.join(root, 'scripts/pyroscope/serve.sh'), [data, ...ports.map(String)], { env: { ...process.env, PYROSCOPE_BIN: bin }, stdio: 'ignore' });
children.push(server);
const url = `http://127.0.0.1:${ports[0]}`;
while (!(await get(ports[0], '/ready'))) await sleep(250);

const appPort = await freePort();
const gunicorn = spawn(venvPython, ['-m', 'gunicorn', '--chdir', path.join(root, '__test__/programs'), '-w', '4', '--max-requests', '300', '-b', `127.0.0.1:${appPort}`, 'agent_wsgi:app'], { stdio: 'ignore' });
children.push(gunicorn);
while (!(await get(appPort))) await sleep(200);
let loading = true;
const load = Promise.all([0, 1].map(async () => {
  while (loading) await get(appPort);
}));
const from = Date.now();
const agent = spawn(process.execPath, [path.join(root, 'dist/cli/pyflame-ts.js'), 'agent', '--server', url, '--service', 'shop', '-p', String(gunicorn.pid), '--window', '5', '--tag', 'env=demo'], { stdio: 'inherit' });
children.push(agent);
await sleep(seconds * 1000);
loading = false;
await load;
const exited = new Promise((r) => agent.once('exit', r));
agent.kill('SIGTERM');
await exited;

const query = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="shop"}';
const params = new URLSearchParams({ query, from: String(from - 60_000), until: String(Date.now() + 60_000), format: 'json' });
const json = await (await fetch(`${url}/pyroscope/render?${params}`)).json();
const folded = flamebearerToFolded(json.flamebearer, 10_000_000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-agent-svg-'));
fs.writeFileSync(path.join(work, 'profile.txt'), folded);
execFileSync(process.execPath, [path.join(root, 'dist/cli/pyflame-ts.js'), 'render', path.join(work, 'profile.txt'), '-o', path.join(work, 'profile.svg'), '--title', 'service_name="shop" read back from Pyroscope (/pyroscope/render), drawn by pyflame-ts', '--width', '1100']);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 600 } });
await page.goto('file://' + path.join(work, 'profile.svg'));
await page.locator('svg').first().screenshot({ path: out });
await browser.close();
gunicorn.kill('SIGTERM');
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
fs.rmSync(data, { recursive: true, force: true });
fs.rmSync(work, { recursive: true, force: true });
console.log(`wrote ${path.relative(root, out)} (${folded.split('\n').length - 1} stacks read back)`);
