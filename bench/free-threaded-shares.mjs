// Issue 14: on a free-threaded build without its GIL, how true are the default view's thread
// shares and heavy/light splits, recording after recording? Spawns
// __test__/programs/known_ratio_threads.py (N workers timing heavy() and light() on their own
// thread CPU clock) and records it in chunks with the Node API; per chunk and in total it
// prints, per worker, the program's heavy share of its CPU time beside the default view's
// (CPU-weighted on-CPU samples) and the raw on-CPU samples' (the --threads view without idle),
// and the on-CPU samples per CPU-ms in heavy and in light (a look unbiased by position finds
// both alike): where the default view is off, this says whether the samples or the weights are.
//
// usage: node bench/free-threaded-shares.mjs [--python=.../python3.13t] [--threads=2]
//          [--chunks=6] [--seconds=5] [--rate=0.001] [--busy=0]
// `--busy=N` adds N `while 1: pass` loops (nice 0) for the duration. Needs `npm run build`.
// Quote the load average printed with every line.

import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { sample } = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'index.js'))
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const PYTHON = args.python ?? '/var/cache/pyflame-ts/pythons/bin/python3.13t'
const THREADS = Number(args.threads ?? 2)
const CHUNKS = Number(args.chunks ?? 6)
const SECONDS = Number(args.seconds ?? 5)
const RATE = Number(args.rate ?? 0.001)
const BUSY = Number(args.busy ?? 0)
const PROGRAM = path.join(ROOT, '__test__', 'programs', 'known_ratio_threads.py')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (x) => (100 * x).toFixed(1).padStart(5)

/** Per kernel tid: heavy/light/other counts of a folded view with thread labels. */
function byThread(folded) {
  const out = new Map()
  for (const line of folded.trim().split('\n')) {
    const at = line.lastIndexOf(' ')
    const count = Number(line.slice(at + 1))
    const stack = line.slice(0, at)
    const tid = Number(/^thread (\d+)/.exec(stack)?.[1])
    if (!tid) continue
    const leaf = stack.split(';').pop()
    const c = out.get(tid) ?? { heavy: 0, light: 0, other: 0 }
    if (/:heavy:\d+$/.test(leaf)) c.heavy += count
    else if (/:light:\d+$/.test(leaf)) c.light += count
    else c.other += count
    out.set(tid, c)
  }
  return out
}

const add = (into, from) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
  return into
}

function line(label, truth, weighted, raw) {
  const share = (c) => c.heavy / (c.heavy + c.light)
  const dh = raw.heavy / (truth.heavy * 1000)
  const dl = raw.light / (truth.light * 1000)
  return (
    `${label}: heavy truth ${pct(share(truth))} default ${pct(share(weighted))} (${(100 * (share(weighted) - share(truth))).toFixed(1).padStart(5)} pp)` +
    ` raw on-CPU ${pct(share(raw))} (${(100 * (share(raw) - share(truth))).toFixed(1).padStart(5)} pp), n ${raw.heavy + raw.light}, on-CPU samples per CPU-ms heavy ${dh.toFixed(3)} light ${dl.toFixed(3)}`
  )
}

const busy = []
for (let i = 0; i < BUSY; i++) busy.push(spawn('python3', ['-c', 'while 1: pass'], { stdio: 'ignore' }))
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ft-shares-')), 'totals.json')
const child = spawn(PYTHON, [PROGRAM, String(THREADS), out], { stdio: ['ignore', 'pipe', 'inherit'] })
try {
  let text = ''
  child.stdout.on('data', (d) => (text += d))
  while (!text.includes('ready')) await sleep(50)
  await sleep(300)
  const read = () => JSON.parse(fs.readFileSync(out, 'utf8'))
  const totals = {}
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    const before = read()
    const profile = await sample({ pid: child.pid, seconds: SECONDS, rate: RATE })
    const after = read()
    const weighted = byThread(profile.toFolded({ threadLabels: true }))
    const raw = byThread(profile.toFolded({ threads: true, threadLabels: true, excludeIdle: true }))
    const load = os.loadavg()[0].toFixed(1)
    for (const name of Object.keys(after).sort()) {
      const tid = after[name].tid
      const truth = { heavy: after[name].heavy - (before[name]?.heavy ?? 0), light: after[name].light - (before[name]?.light ?? 0) }
      const w = weighted.get(tid) ?? { heavy: 0, light: 0, other: 0 }
      const r = raw.get(tid) ?? { heavy: 0, light: 0, other: 0 }
      const t = (totals[name] ??= { truth: {}, w: {}, r: {} })
      add(t.truth, truth)
      add(t.w, w)
      add(t.r, r)
      console.log(line(`chunk ${chunk} load ${load} ${name}`, truth, w, r))
    }
  }
  const load = os.loadavg()[0].toFixed(1)
  for (const [name, t] of Object.entries(totals)) console.log(line(`TOTAL ${THREADS} threads busy ${BUSY} load ${load} ${name}`, t.truth, t.w, t.r))
} finally {
  child.kill('SIGKILL')
  for (const b of busy) b.kill('SIGKILL')
}
