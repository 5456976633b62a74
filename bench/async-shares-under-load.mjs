// Issue 16: is `record --async`'s heavy-task share biased on a busy machine, and where? Spawns
// bench/targets/async_slices.py (slices of CPU work, or spins to a wall-clock deadline), records
// it with the timeline kept, and prints one line per run: the sampled heavy share beside the
// program's own wall-clock and CPU-time shares over the same window, and per truth class the
// samples that fell in it per ms of it (a sampler uniform in wall time gives both tasks the same
// density), with the samples' attribution checked against the truth at their time (`wrong`:
// samples whose stack names the other task than the one running then).
//
// usage: node bench/async-shares-under-load.mjs [--python=...python3.15] [--runs=2]
//          [--modes=async,plain] [--slices=wall,cpu] [--seconds=8] [--rate=0.001] [--busy=0]
// `--busy=N` adds N `while 1: pass` loops for the duration (at this process's nice value: run
// the whole bench under `nice -n 19` to load the machine without slowing anyone else's work). `--sampler-nice=N` runs the
// sampler (this process's threads made after the target starts) at nice N, the target staying at
// nice 0 (a negative N needs root): a diagnostic of starvation, not a setting of the profiler.
// Needs `npm run build`.
// Quote the load average printed with every line.

import { spawn } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { sample } = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'index.js'))
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const PYTHON = args.python ?? '/var/cache/pyflame-ts/pythons/bin/python3.15'
const RUNS = Number(args.runs ?? 2)
const MODES = (args.modes ?? 'async,plain').split(',')
const SLICES = (args.slices ?? 'wall,cpu').split(',')
const SECONDS = Number(args.seconds ?? 8)
const RATE = Number(args.rate ?? 0.001)
const PROGRAM = path.join(ROOT, 'bench', 'targets', 'async_slices.py')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function run(mode, kind) {
  const child = spawn(PYTHON, [PROGRAM, kind], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const slices = () =>
    out
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[0] === 'slice')
      .map((f) => ({ task: f[1], start: +f[2] * 1000, end: +f[3] * 1000, cpu: +f[4] * 1000 }))
  try {
    // Threads inherit their creator's nice value: the sampling thread, started by `sample`
    // on this thread, gets it; the target, already running, does not.
    if (args['sampler-nice'] !== undefined) os.setPriority(0, Number(args['sampler-nice']))
    while (slices().length < 10) await sleep(50)
    const load = os.loadavg()[0]
    const profile = await sample({ pid: child.pid, seconds: SECONDS, rate: RATE, async: mode === 'async', timeline: true })
    const raw = profile.raw
    const from = raw.startTimeMs
    const to = from + raw.durationSecs * 1000
    while (!slices().some((x) => x.start >= to)) await sleep(50)
    const all = slices()
      .filter((x) => x.end > from && x.start < to)
      .sort((a, b) => a.start - b.start)
    const wall = { heavy: 0, light: 0 }
    const cpu = { heavy: 0, light: 0 }
    for (const x of all) {
      const part = Math.max(0, Math.min(x.end, to) - Math.max(x.start, from))
      wall[x.task] += part
      cpu[x.task] += (x.cpu * part) / (x.end - x.start)
    }
    const taskOf = (stack) => {
      const names = raw.stacks[stack].map((i) => raw.frames[i].name)
      if (!names.includes('burn')) return 'other'
      return names.includes('heavy_work') ? 'heavy' : names.includes('light_work') ? 'light' : 'other'
    }
    const sliceAt = (t) => {
      let lo = 0
      let hi = all.length - 1
      while (lo <= hi) {
        const m = (lo + hi) >> 1
        if (all[m].end < t) lo = m + 1
        else if (all[m].start > t) hi = m - 1
        else return m
      }
      return -1
    }
    const inTruth = { heavy: 0, light: 0, gap: 0 }
    const sampled = { heavy: 0, light: 0 }
    const inSlice = new Array(all.length).fill(0)
    let wrong = 0
    for (const s of raw.timeline) {
      if (s.idle) continue
      const at = sliceAt(from + s.timeUs / 1000)
      const truth = at < 0 ? 'gap' : all[at].task
      if (at >= 0) inSlice[at]++
      inTruth[truth]++
      const seen = taskOf(s.stack)
      if (seen === 'other') continue
      sampled[seen]++
      if (truth !== 'gap' && seen !== truth) wrong++
    }
    // Samples per ms of a slice's running time (its CPU time) and of its preempted time (wall
    // minus CPU), least squares over the slices wholly inside the window: a sampler uniform in
    // wall time has the two equal; one that waits for a CPU when the target does samples
    // preempted time less. `explained`: the heavy share those two densities predict.
    let [cc, cp, pp, nc, np] = [0, 0, 0, 0, 0]
    const parts = { heavy: { run: 0, pre: 0 }, light: { run: 0, pre: 0 } }
    all.forEach((x, i) => {
      if (x.start < from || x.end > to) return
      const run = Math.min(x.cpu, x.end - x.start)
      const pre = x.end - x.start - run
      parts[x.task].run += run
      parts[x.task].pre += pre
      cc += run * run
      cp += run * pre
      pp += pre * pre
      nc += inSlice[i] * run
      np += inSlice[i] * pre
    })
    const det = cc * pp - cp * cp
    const perRun = (nc * pp - np * cp) / det
    const perPre = (np * cc - nc * cp) / det
    const weight = (k) => perRun * parts[k].run + perPre * parts[k].pre
    const explained = ((100 * weight('heavy')) / (weight('heavy') + weight('light'))).toFixed(1)
    const share = (o) => ((100 * o.heavy) / (o.heavy + o.light)).toFixed(1)
    const density = (k) => (inTruth[k] / wall[k]).toFixed(3)
    console.log(
      `${path.basename(PYTHON)} ${mode.padEnd(5)} ${kind.padEnd(4)} nice ${os.getPriority(0)} load ${load.toFixed(1)} | ${raw.ticks} samples, ${raw.missed} missed, ${raw.errors} errors, ${wrong} wrong` +
        ` | heavy sampled ${share(sampled)} %, wall ${share(wall)} %, CPU ${share(cpu)} %` +
        ` | samples per ms heavy ${density('heavy')} light ${density('light')} | CPU/wall heavy ${(cpu.heavy / wall.heavy).toFixed(2)} light ${(cpu.light / wall.light).toFixed(2)}` +
        ` | samples per ms running ${perRun.toFixed(3)} preempted ${perPre.toFixed(3)}, explained heavy ${explained} %`,
    )
  } finally {
    if (args['sampler-nice'] !== undefined) os.setPriority(0, 0)
    child.kill('SIGKILL')
  }
}

const busy = Array.from({ length: Number(args.busy ?? 0) }, () => spawn(PYTHON, ['-c', 'while 1: pass'], { stdio: 'ignore' }))
try {
  for (let r = 0; r < RUNS; r++) for (const kind of SLICES) for (const mode of MODES) await run(mode, kind)
} finally {
  for (const b of busy) b.kill('SIGKILL')
}
