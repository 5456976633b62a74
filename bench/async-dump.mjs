// How long `dump --async` takes on a real aiohttp server with 100 requests held open (issue 16's
// goal: the whole command under 100 ms), on every interpreter whose tasks pyflame-ts reads, and
// where the time goes. Per interpreter it starts __test__/programs/async_server.py, holds the
// requests on `/hold`, and times, interleaved in rotated order, repetition by repetition:
//   - `node -e 0`: Node's own start;
//   - the whole CLI, `pyflame-ts dump --async -p PID` (wall time of the process);
//   - the Node API `dumpAsync(pid)` in this process (no Node start, no module loading);
//   - the Rust core alone (target/release/examples/async_dump --time 1), split into discovery
//     (maps, ELF symbols, the runtime), opening asyncio (its debug section, or 3.11–3.13's task
//     sets), seizing the threads, and the walk (pause, every thread and task read, frames named).
// Node runs without NODE_OPTIONS and NODE_EXTRA_CA_CERTS, as a user's would (the latter costs
// ~45 ms of Node start here: bench/startup.mjs).
//
// usage: node bench/async-dump.mjs [--pythons=PATH,PATH,...] [--reps=7] [--requests=100]
// Needs `npm run build`, `cargo build --release --example async_dump -p pyflame-core` and
// scripts/ci/async-servers.sh. Prints a Markdown table (ms: median, min–max) and the load average:
// wall time of each (fork to exit for whole processes), and the user+sys CPU of `node -e 0` and of
// the CLI (less sensitive to a busy machine than their wall time).

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
const HOME = os.homedir()
const NEWEST = '/var/cache/pyflame-ts/pythons/bin'
const DEFAULT_PYTHONS = [
  `${HOME}/.pyenv/versions/3.11.7/bin/python3`,
  `${HOME}/.pyenv/versions/3.12.1/bin/python3`,
  `${HOME}/.pyenv/versions/3.13.0/bin/python3`,
  '/usr/bin/python3',
  `${NEWEST}/python3.14`,
  `${NEWEST}/python3.15`,
]
const PYTHONS = args.pythons ? args.pythons.split(',') : DEFAULT_PYTHONS.filter((p) => fs.existsSync(p))
const REPS = Number(args.reps ?? 7)
const REQUESTS = Number(args.requests ?? 100)
const CLI = path.join(ROOT, 'dist', 'cli', 'pyflame-ts.js')
const CORE = path.join(ROOT, 'target', 'release', 'examples', 'async_dump')
const SERVER = path.join(ROOT, '__test__', 'programs', 'async_server.py')
const { dumpAsync } = require(path.join(ROOT, 'dist', 'index.js'))
for (const needed of [CLI, CORE]) if (!fs.existsSync(needed)) throw new Error(`${needed} is missing: see usage`)

const env = { ...process.env }
delete env.NODE_OPTIONS
delete env.NODE_EXTRA_CA_CERTS
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const RUSAGE = path.join(ROOT, 'bench', 'targets', 'rusage.py')
/** Wall time (fork to exit) and user+sys CPU of a command, in ms, through bench/targets/rusage.py. */
const timed = (argv) => {
  const run = spawnSync('python3', [RUSAGE, ...argv], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
  const usage = JSON.parse(run.output[3] || '{}')
  if (run.status !== 0 || usage.status !== 0) throw new Error(`${argv.join(' ')}: exit ${usage.status}: ${run.stderr.slice(-400)}`)
  return { ms: usage.wall * 1000, cpu: (usage.user + usage.sys) * 1000, stdout: run.stdout }
}

async function measure(python) {
  const version = spawnSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).stdout.trim()
  const minor = Number(version.split('.')[1])
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'pyflame-bench-async-dump-'))
  fs.cpSync(aiohttpSite(minor), site, { recursive: true })
  const log = path.join(site, 'server.out')
  // Through a shell that exits at once: blocking mode cannot pause a child of its own process.
  const pid = Number(spawnSync('sh', ['-c', `PYTHONPATH="$1" "$2" "$3" > "$4" 2>&1 & echo $!`, 'sh', site, python, SERVER, log], { encoding: 'utf8' }).stdout.trim())
  try {
    let port
    for (let waited = 0; !port; waited += 100) {
      if (waited > 30000) throw new Error(`${python}: server not ready: ${fs.readFileSync(log, 'utf8').slice(-400)}`)
      await sleep(100)
      port = /ready (\d+)/.exec(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')?.[1]
    }
    const held = Array.from({ length: REQUESTS }, () => fetch(`http://127.0.0.1:${port}/hold`).then((r) => r.text()))
    let holding = 0
    for (let tries = 0; holding < REQUESTS; tries++) {
      if (tries > 100) throw new Error(`${python}: only ${holding} of ${REQUESTS} requests held`)
      await sleep(200)
      holding = (await dumpAsync(pid)).tasks.filter((t) => t.frames.some((f) => f.name === 'handle_hold')).length
    }
    const results = { node: [], nodeCpu: [], cli: [], cliCpu: [], api: [], core: [], discover: [], open: [], seize: [], walk: [] }
    let tasks = 0
    const steps = {
      node: () => {
        const run = timed([process.execPath, '-e', '0'])
        results.node.push(run.ms)
        results.nodeCpu.push(run.cpu)
      },
      cli: () => {
        const run = timed([process.execPath, CLI, 'dump', '--async', '-p', String(pid)])
        results.cli.push(run.ms)
        results.cliCpu.push(run.cpu)
      },
      api: async () => {
        const t0 = performance.now()
        tasks = (await dumpAsync(pid)).tasks.length
        results.api.push(performance.now() - t0)
      },
      core: () => {
        const run = timed([CORE, String(pid), '--time', '1'])
        const times = JSON.parse(run.stdout)
        results.core.push(run.ms)
        for (const k of ['discover', 'open', 'seize', 'walk']) results[k].push(times[k])
      },
    }
    const names = Object.keys(steps)
    const loadBefore = os.loadavg()[0]
    for (let rep = 0; rep < REPS; rep++) {
      for (let i = 0; i < names.length; i++) await steps[names[(i + rep) % names.length]]()
    }
    const loadAfter = os.loadavg()[0]
    await fetch(`http://127.0.0.1:${port}/release`).then((r) => r.text())
    await Promise.all(held)
    return { python, version, tasks, results, load: [loadBefore, loadAfter] }
  } finally {
    process.kill(pid, 'SIGKILL')
    fs.rmSync(site, { recursive: true, force: true })
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`
const label = (python, version) => {
  if (python === '/usr/bin/python3') return `${version} Debian (static)`
  if (python.startsWith(NEWEST)) return `${version} Debian unstable`
  return `${version} pyenv`
}
const rows = []
for (const python of PYTHONS) rows.push(await measure(python))
console.log(`\`dump --async\` with ${REQUESTS} requests held open, ms: median (min–max of ${REPS}), wall time; ${new Date().toISOString()}, ${os.cpus().length} cores\n`)
console.log('| Python | tasks | load avg | `node -e 0` | whole CLI | CPU: `node -e 0` | CPU: whole CLI | Node API `dumpAsync` | Rust core, whole process | discover | open asyncio | seize | walk |')
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const { python, version, tasks, results: r, load } of rows) {
  const cells = ['node', 'cli', 'nodeCpu', 'cliCpu', 'api', 'core', 'discover', 'open', 'seize', 'walk'].map((k) => fmt(r[k]))
  console.log(`| ${label(python, version)} | ${tasks} | ${load.map((l) => l.toFixed(1)).join('→')} | ${cells.join(' | ')} |`)
}
