// The cost of asyncio-aware profiling (issue 16), on a real aiohttp server under a steady
// loopback load: CPU per sample of `record --async` next to plain `record` (slope between a 1 s
// and a 3 s recording at 1000 Hz, interleaved repetitions, median), and the time `dump --async`
// takes with 100 requests held open (the dump alone through the Node API, and the whole CLI).
// On a 3.15 server, CPython 3.15's own sampler in its `--async-aware` mode is measured the same
// way, interleaved with ours.
//
// usage: node bench/async.mjs [--python=/var/cache/pyflame-ts/pythons/bin/python3.14] [--reps=3]
// (any 3.7+ GIL build: e.g. --python=$HOME/.pyenv/versions/3.12.1/bin/python3)
// Needs `npm run build` and scripts/ci/async-servers.sh. Prints a Markdown table.

import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { aiohttpSite } from './lib/aiohttp-site.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const PYTHON = args.python ?? '/var/cache/pyflame-ts/pythons/bin/python3.14'
const REPS = Number(args.reps ?? 3)
const PYTHON_VERSION = spawnSync(PYTHON, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).stdout.trim()
const IS_315 = PYTHON_VERSION.startsWith('3.15')
const MINOR = Number(PYTHON_VERSION.split('.')[1])
const SITE = aiohttpSite(MINOR)
// CPython 3.15's sampler, run by the same launcher (inside its root; C locale: the root has no other).
const CPYTHON_SAMPLER = path.join(path.dirname(PYTHON), 'python3.15')
const CLI = path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js')
const RUSAGE = path.join(ROOT, 'bench', 'targets', 'rusage.py')

const site = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-bench-aiohttp-'))
fs.cpSync(SITE, site, { recursive: true })
// Started through a shell that exits at once, so that the server is not our child: blocking
// mode (the default of dump) cannot pause a child of the profiling process.
const log = path.join(site, 'server.out')
const serverPid = Number(
  spawnSync('sh', ['-c', `PYTHONPATH="$1" "$2" "$3" > "$4" 2>&1 & echo $!`, 'sh', site, PYTHON, path.join(ROOT, '__test__', 'programs', 'async_server.py'), log], { encoding: 'utf8' }).stdout.trim(),
)
const server = { pid: serverPid, kill: () => process.kill(serverPid, 'SIGKILL') }
const port = await new Promise((resolve) => {
  const check = setInterval(() => {
    const m = /ready (\d+)/.exec(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
    if (m) {
      clearInterval(check)
      resolve(Number(m[1]))
    }
  }, 100)
})

// Steady load: 4 clients, /compute and /slow in turn, until the end.
let loading = true
let answered = 0
const client = async (w) => {
  for (let i = w; loading; i++) {
    const r = await fetch(`http://127.0.0.1:${port}${i % 2 ? '/slow' : '/compute'}`)
    await r.text()
    answered++
  }
}
const clients = Array.from({ length: 4 }, (_, w) => client(w))

/** One recording by `mode` ('plain', 'async', or 'cpython-async': CPython 3.15's sampler with
 * `--async-aware`), at 1000 Hz, run without blocking our event loop (the load clients live in it). */
async function record(mode, seconds) {
  const file = path.join(os.tmpdir(), `pyflame-bench-async-${process.pid}.folded`)
  const argv =
    mode === 'cpython-async'
      ? [RUSAGE, 'env', '-u', 'LANG', 'LC_ALL=C', CPYTHON_SAMPLER, '-m', 'profiling.sampling', 'attach', '-d', String(seconds), '-r', '1000', '--async-aware', '--collapsed', '-o', file, String(server.pid)]
      : [RUSAGE, process.execPath, CLI, 'record', '-p', String(server.pid), '-s', String(seconds), '-r', '0.001', '-f', 'folded', '-o', file, ...(mode === 'async' ? ['--async'] : [])]
  const child = spawn('python3', argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
  let usageText = ''
  child.stdio[3].setEncoding('utf8').on('data', (d) => (usageText += d))
  await new Promise((resolve) => child.on('close', resolve))
  const usage = JSON.parse(usageText)
  const samples = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
  fs.rmSync(file, { force: true })
  return { cpu: usage.user + usage.sys, samples }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const modes = IS_315 ? ['plain', 'async', 'cpython-async'] : ['plain', 'async']
const perSample = Object.fromEntries(modes.map((m) => [m, []]))
for (let rep = 0; rep < REPS; rep++) {
  // Rotated so that no profiler always runs first.
  const order = modes.map((_, i) => modes[(i + rep) % modes.length])
  for (const mode of order) {
    const short = await record(mode, 1)
    const long = await record(mode, 3)
    perSample[mode].push(((long.cpu - short.cpu) / (long.samples - short.samples)) * 1e6)
  }
}

// dump --async with 100 requests held open.
const held = Array.from({ length: 100 }, () => fetch(`http://127.0.0.1:${port}/hold`).then((r) => r.text()))
const { dumpAsync } = require(path.join(ROOT, 'dist', 'index.js'))
let holding = 0
while (holding < 100) {
  await new Promise((r) => setTimeout(r, 200))
  holding = (await dumpAsync(server.pid)).tasks.filter((t) => t.frames.some((f) => f.name === 'handle_hold')).length
}
const apiMs = []
const cliMs = []
let taskCount = 0
for (let i = 0; i < 5; i++) {
  let t0 = performance.now()
  taskCount = (await dumpAsync(server.pid)).tasks.length
  apiMs.push(performance.now() - t0)
  t0 = performance.now()
  await new Promise((resolve) => spawn(process.execPath, [CLI, 'dump', '--async', '-p', String(server.pid)], { stdio: 'ignore' }).on('close', resolve))
  cliMs.push(performance.now() - t0)
}
await fetch(`http://127.0.0.1:${port}/release`).then((r) => r.text())
await Promise.all(held)
loading = false
await Promise.all(clients)
server.kill()
fs.rmSync(site, { recursive: true, force: true })

const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`
console.log(`aiohttp server on Python ${PYTHON_VERSION} (4 clients on loopback, /compute and /slow in turn), ${answered} requests answered during the run; load average ${os.loadavg()[0].toFixed(1)}\n`)
const heads = { plain: 'plain `record`', async: '`record --async`', 'cpython-async': "CPython 3.15's `profiling.sampling --async-aware`" }
console.log(`| measure | ${modes.map((m) => heads[m]).join(' | ')} |`)
console.log(`|---|${modes.map(() => '---|').join('')}`)
console.log(`| CPU per sample, µs (median, min–max of ${REPS}) | ${modes.map((m) => fmt(perSample[m])).join(' | ')} |`)
console.log(`\n| \`dump --async\`, ${taskCount} tasks (100 requests held) | ms, median (min–max of 5) |`)
console.log('|---|---|')
console.log(`| the dump (Node API \`dumpAsync\`) | ${fmt(apiMs)} |`)
console.log(`| the CLI, Node start included | ${fmt(cliMs)} |`)
