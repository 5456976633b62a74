// Renders the README's picture of an asyncio profile: an aiohttp server (__test__/programs/
// async_server.py on CPython 3.14 or 3.15) under a loopback load, recorded with `record --async`, the
// SVG photographed by headless Debian chromium through playwright-core.
//
// usage: node scripts/async-demo.mjs [--python=...python3.14] [--out=docs/async-flamegraph.png]
// Needs `npm run build` and scripts/ci/async-servers.sh.

import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const PYTHON = args.python ?? '/var/cache/pyflame-ts/pythons/bin/python3.14'
const OUT = path.resolve(ROOT, args.out ?? 'docs/async-flamegraph.png')
const SITE = '/var/cache/pyflame-ts/async-servers/aiohttp-3.13.5-cp314/site'

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-async-demo-'))
fs.cpSync(SITE, path.join(work, 'site'), { recursive: true })
const server = spawn(PYTHON, [path.join(ROOT, '__test__', 'programs', 'async_server.py')], { env: { ...process.env, PYTHONPATH: path.join(work, 'site') }, stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
server.stdout.setEncoding('utf8').on('data', (d) => (out += d))
const port = await new Promise((resolve) => {
  const check = setInterval(() => {
    const m = /ready (\d+)/.exec(out)
    if (m) resolve(Number(m[1]), clearInterval(check))
  }, 100)
})

let loading = true
const client = async (w) => {
  for (let i = w; loading; i++) await (await fetch(`http://127.0.0.1:${port}${i % 3 ? '/slow' : '/compute'}`)).text()
}
const clients = Array.from({ length: 6 }, (_, w) => client(w))
const svg = path.join(work, 'async.svg')
// Spawned, not spawnSync: the clients live in this event loop and must keep running.
const status = await new Promise((resolve) =>
  spawn(process.execPath, [path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js'), 'record', '--async', '-x', '-p', String(server.pid), '-s', '5', '-r', '0.005', '-o', svg], { stdio: 'inherit' }).on('close', resolve),
)
loading = false
await Promise.all(clients)
server.kill('SIGKILL')
if (status !== 0) throw new Error(`record --async failed (${status})`)

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 640 } })
  await page.goto(`file://${svg}`)
  await page.screenshot({ path: OUT })
} finally {
  await browser.close()
  fs.rmSync(work, { recursive: true, force: true })
}
console.log(`wrote ${path.relative(ROOT, OUT)}`)
