// The speedscope, Chrome trace and pprof writers on real recordings: a Python program with a
// CPU-bound main thread, a CPU-bound worker and a sleeping thread (programs/formats_workers.py)
// is sampled through `sample()`, and every format is parsed, validated and compared with the
// profile's own counts, worked out here without the writers' view code.

import test from 'ava'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { sample } from '../src/index'
import type { RawProfile } from '../src/types'
import { toChromeTrace } from '../src/writers/chrometrace'
import { toPprof } from '../src/writers/pprof'
import { toSpeedscope } from '../src/writers/speedscope'
import { validateChromeTrace, validatePprof, validateSpeedscope } from './fixtures/formats/validate'

const PROGRAM = path.join(__dirname, 'programs', 'formats_workers.py')
const INTERVAL = 0.005
const HOT = 'größe_berechnen'
const VERSIONS = ['3.12.1', '3.8.18']

function startTarget(python: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [PROGRAM], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${PROGRAM} exited early with ${code}`)))
    child.stdout!.setEncoding('utf8').once('data', () => resolve(child))
  })
}

/** Root-first function names → samples, for the given rows (the writers' view code is not used). */
function byNames(profile: RawProfile, keep: (e: RawProfile['entries'][number]) => boolean, thread?: number): Map<string, number> {
  const map = new Map<string, number>()
  for (const entry of profile.entries) {
    if (!keep(entry) || (thread !== undefined && entry.thread !== thread)) continue
    const key = profile.stacks[entry.stack].map((f) => profile.frames[f].name).join(';')
    map.set(key, (map.get(key) ?? 0) + entry.count)
  }
  return map
}

const gilHolder = (e: { gil: boolean }) => e.gil
const everyThread = () => true

for (const version of VERSIONS) {
  const python = path.join(homedir(), '.pyenv', 'versions', version, 'bin', 'python')
  if (!existsSync(python)) continue
  const tag = `[${version}]`
  let recorded: Promise<RawProfile> | undefined
  // One 1.5 s recording per interpreter, shared by the tests below.
  const record = (): Promise<RawProfile> =>
    (recorded ??= (async () => {
      const target = await startTarget(python)
      try {
        const profile = await sample({ pid: target.pid!, seconds: 1.5, rate: INTERVAL, timeline: true })
        return profile.raw
      } finally {
        target.removeAllListeners('exit')
        target.kill('SIGKILL')
      }
    })())

  test(`${tag} the recording has the three threads the formats need`, async (t) => {
    const profile = await record()
    t.log(`ticks ${profile.ticks}, errors ${profile.errors}, gil idle ${profile.gilIdleTicks}, threads ${profile.threads.length}, timeline ${profile.timeline?.length}`)
    t.true(profile.ticks >= 50, `only ${profile.ticks} ticks`)
    t.is(profile.threads.length, 3)
    t.true((profile.timeline?.length ?? 0) >= profile.ticks * 2)
  })

  test(`${tag} speedscope: schema-valid, per-thread weights equal the samples × interval`, async (t) => {
    const profile = await record()
    for (const threads of [false, true]) {
      const aggregated = { ...profile, timeline: undefined }
      for (const input of [profile, aggregated]) {
        const parsed = validateSpeedscope(JSON.stringify(toSpeedscope(input, { threads })))
        profile.threads.forEach((thread, index) => {
          const expected = byNames(profile, threads ? everyThread : gilHolder, index)
          const name = `thread ${thread.tid}${thread.name ? ` (${thread.name})` : ''}`
          const got = parsed.folded.get(name) ?? new Map<string, number>()
          t.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), `${name}, threads=${threads}`)
          for (const [stack, count] of expected) t.true(Math.abs(got.get(stack)! - count * INTERVAL) < 1e-6, `${stack}: ${got.get(stack)} vs ${count}`)
        })
      }
      const frames = toSpeedscope(profile, { threads }).shared.frames
      t.truthy(frames.find((f) => f.name === HOT && f.file === PROGRAM && f.line! >= 11 && f.line! <= 13))
    }
  })

  test(`${tag} chrome trace: balanced named tracks; aggregated durations equal samples × interval`, async (t) => {
    const profile = await record()
    const intervalUs = INTERVAL * 1e6
    const aggregated = validateChromeTrace(JSON.stringify(toChromeTrace({ ...profile, timeline: undefined }, { threads: true })))
    profile.threads.forEach((thread, index) => {
      const got = aggregated.folded.get(`${thread.pid}/${thread.tid}`)!
      for (const [stack, count] of byNames(profile, everyThread, index)) {
        t.true(Math.abs(got.get(stack)! - count * intervalUs) < 1e-3, `${stack}: ${got.get(stack)} µs vs ${count} samples`)
      }
    })
    t.is(aggregated.processNames.get(profile.pid), `python ${profile.pid} (${profile.pythonVersion}) ${profile.processes[0].executable}`)
    // Real time: the slices' stacks are exactly the sampled stacks, and they lie inside the recording.
    const timed = validateChromeTrace(JSON.stringify(toChromeTrace(profile, { threads: true })))
    const lastUs = Math.max(...profile.timeline!.map((s) => s.timeUs)) + intervalUs
    for (const event of timed.events) if (event.ph !== 'M') t.true(event.ts <= lastUs)
    profile.threads.forEach((thread, index) => {
      const stacks = [...timed.folded.get(`${thread.pid}/${thread.tid}`)!.keys()]
      const sampled = new Set(byNames(profile, everyThread, index).keys())
      // Every sampled stack shows, and every interval's open stack is a sampled one or a prefix of one.
      for (const stack of sampled) t.true(stacks.includes(stack), `${stack} missing from the timed trace`)
      for (const stack of stacks) t.true([...sampled].some((s) => s === stack || s.startsWith(stack + ';')), `${stack} never sampled`)
    })
    const gilView = validateChromeTrace(JSON.stringify(toChromeTrace(profile)))
    t.true([...gilView.threadNames.values()].some((n) => n.startsWith('thread')))
  })

  test(`${tag} pprof: decodes, totals match the profile, the hot function leads; go tool pprof reads it`, async (t) => {
    t.timeout(240_000)
    const profile = await record()
    const gz = toPprof(profile)
    const parsed = validatePprof(gz)
    const expected = byNames(profile, gilHolder)
    if (profile.gilIdleTicks > 0) expected.set('(idle)', profile.gilIdleTicks)
    t.deepEqual(new Map([...parsed.folded].map(([k, v]) => [k, v[0]])), expected)
    for (const [, [count, ns]] of parsed.folded) t.is(ns, count * 5_000_000, 'time = count × the interval in ns')
    const counted = [...expected.values()].reduce((a, b) => a + b, 0)
    t.true(counted <= profile.ticks && counted >= profile.ticks - profile.errors, `${counted} samples for ${profile.ticks} ticks`)
    // Flat samples per function: the CPU-bound function dominates.
    const flat = new Map<string, number>()
    for (const [stack, [count]] of parsed.folded) {
      const leaf = stack.split(';').pop()!
      flat.set(leaf, (flat.get(leaf) ?? 0) + count)
    }
    const top = [...flat].sort((a, b) => b[1] - a[1])[0]
    t.is(top[0], HOT, JSON.stringify([...flat]))
    const threads = validatePprof(toPprof(profile, { threads: true }))
    t.is(threads.profile.sample.reduce((s, x) => s + Number(x.value[0]), 0), profile.entries.reduce((s, e) => s + e.count, 0))
    try {
      await promisify(execFile)('go', ['version'])
    } catch {
      t.log('go is not installed: go tool pprof check skipped')
      return
    }
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pyflame-formats-')), 'real.pb.gz')
    writeFileSync(file, gz)
    const { stdout } = await promisify(execFile)('go', ['tool', 'pprof', '-top', '-sample_index=samples', file])
    const firstRow = stdout.split('\n').find((line) => /^\s+\d+\s+[\d.]+%/.test(line))
    t.true(firstRow?.trim().endsWith(HOT), `go tool pprof -top: ${stdout}`)
  })
}

const python3121 = path.join(homedir(), '.pyenv', 'versions', '3.12.1', 'bin', 'python')
;(existsSync(python3121) ? test : test.skip)('[3.12.1] --subprocesses: each process is named, has its own (idle), and labels its samples', async (t) => {
  const python = python3121
  // Its own process group, so the forked children go down with it.
  const target = spawn(python, [path.join(__dirname, 'programs', 'formats_forks.py')], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  let profile: RawProfile
  try {
    await new Promise<void>((resolve, reject) => {
      target.once('error', reject)
      target.stdout!.once('data', () => resolve())
    })
    profile = (await sample({ pid: target.pid!, seconds: 1, rate: 0.01, subprocesses: true, timeline: true })).raw
  } finally {
    process.kill(-target.pid!, 'SIGKILL')
  }
  const pids = profile.processes.map((p) => p.pid).sort()
  t.is(pids.length, 3, JSON.stringify(profile.processes))
  const parent = profile.processes.find((p) => p.pid === target.pid)!
  t.true(parent.gilIdleTicks > parent.ticks / 2, 'the sleeping parent is mostly (idle)')

  const speedscope = validateSpeedscope(JSON.stringify(toSpeedscope(profile)))
  t.true([...speedscope.folded.keys()].some((n) => n === `process ${parent.pid} (idle): no thread held the GIL`))
  for (const pid of pids) t.true([...speedscope.folded.keys()].some((n) => n.startsWith(`process ${pid} `)), `no profile for ${pid}`)

  const trace = validateChromeTrace(JSON.stringify(toChromeTrace(profile)))
  t.deepEqual([...trace.processNames.keys()].sort(), pids)
  t.true(trace.folded.get(`${parent.pid}/0`)!.get('(idle)')! > 0, 'the parent has an (idle) track')

  const pprof = validatePprof(toPprof(profile))
  t.deepEqual([...new Set(pprof.labels.map((l) => l.pid as number))].sort(), pids)
  const counted = pprof.profile.sample.reduce((s, x) => s + Number(x.value[0]), 0)
  const expected = profile.entries.filter((e) => e.gil).reduce((s, e) => s + e.count, 0) + profile.processes.reduce((s, p) => s + p.gilIdleTicks, 0)
  t.is(counted, expected)
})
