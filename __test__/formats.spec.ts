// The speedscope, Chrome trace and pprof writers on hand-built profiles whose totals are known
// (see fixtures/formats/profiles.ts), each output parsed and validated: speedscope against its
// own JSON schema, Chrome trace for balanced and ordered tracks, pprof decoded and checked for
// dangling ids (and read by `go tool pprof` when Go is installed).

import test from 'ava'
import { spawnSync } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { chromeTraceChunks, chromeTraceJson, toChromeTrace } from '../src/writers/chrometrace'
import { toPprof, toPprofProfile } from '../src/writers/pprof'
import { speedscopeChunks, speedscopeJson, toSpeedscope } from '../src/writers/speedscope'
import { selectEntries, viewFrames } from '../src/writers/view'
import type { ViewOptions } from '../src/writers/view-options'
import { empty, HOSTILE_FILE, HOSTILE_NAME, twoProcesses, twoThreads, UNICODE_FILE, UNICODE_NAME, withTimeline } from './fixtures/formats/profiles'
import { total, validateChromeTrace, validatePprof, validateSpeedscope } from './fixtures/formats/validate'

const run = promisify(execFile)

function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) < 1e-9
}

function roundedEntries(map: Map<string, number>, scale = 1): Record<string, number> {
  return Object.fromEntries([...map].map(([k, v]) => [k, Math.round(v * scale * 1e6) / 1e6]))
}

// ---------------------------------------------------------------- the validators themselves

test('validators reject broken files (so a pass means something)', (t) => {
  const good = toSpeedscope(twoThreads())
  const unequal = structuredClone(good)
  unequal.profiles[0].weights.push(1)
  t.throws(() => validateSpeedscope(JSON.stringify(unequal)), { message: /weights/ })
  const badUnit = structuredClone(good) as any
  badUnit.profiles[0].unit = 'furlongs'
  t.throws(() => validateSpeedscope(JSON.stringify(badUnit)), { message: /schema/ })
  const outOfRange = structuredClone(good)
  outOfRange.profiles[0].samples[0].push(999)
  t.throws(() => validateSpeedscope(JSON.stringify(outOfRange)), { message: /out of range/ })

  const trace = toChromeTrace(twoThreads())
  const unbalanced = structuredClone(trace)
  unbalanced.traceEvents.splice(unbalanced.traceEvents.findIndex((e) => e.ph === 'E'), 1)
  t.throws(() => validateChromeTrace(JSON.stringify(unbalanced)), { message: /open|went back|closes B/ })
  const unnamed = structuredClone(trace)
  unnamed.traceEvents = unnamed.traceEvents.filter((e) => e.name !== 'thread_name')
  t.throws(() => validateChromeTrace(JSON.stringify(unnamed)), { message: /thread_name/ })

  const pprof = toPprofProfile(twoThreads())
  pprof.sample[0].locationId[0] = 999
  t.throws(() => validatePprof(gzipSync(pprof.encode())), { message: /missing location 999/ })
  t.throws(() => validatePprof(Buffer.from(toPprofProfile(twoThreads()).encode())), { message: /gzip/ })
})

test('streamed JSON pieces join into exactly the object the writers build', (t) => {
  for (const profile of [twoThreads(), withTimeline(), twoProcesses(), empty()]) {
    for (const opts of [{}, { threads: true }, { function: true, excludeIdle: true }] as ViewOptions[]) {
      t.deepEqual(JSON.parse([...speedscopeChunks(profile, opts)].join('')), toSpeedscope(profile, opts))
      t.deepEqual(JSON.parse([...chromeTraceChunks(profile, opts)].join('')), toChromeTrace(profile, opts))
    }
  }
})

// ---------------------------------------------------------------- view

test('view: each option selects the samples Pyflame and py-spy would count', (t) => {
  const profile = twoThreads()
  const sum = (opts: ViewOptions) => {
    const view = selectEntries(profile, opts)
    return [view.entries.reduce((s, e) => s + e.count, 0), view.idle]
  }
  t.deepEqual(sum({}), [14, 3], 'GIL holder per tick plus (idle) = 17 ticks')
  t.deepEqual(sum({ excludeIdle: true }), [14, 0])
  t.deepEqual(sum({ threads: true }), [34, 0], 'every thread in every tick')
  t.deepEqual(sum({ threads: true, excludeIdle: true }), [14, 0], 'idle threads dropped')
  t.deepEqual(sum({ threads: true, excludeIdle: true, idle: true }), [34, 0], '--idle keeps them')
  t.deepEqual(sum({ threads: true, gil: true }), [14, 0])
  const procs = selectEntries(twoProcesses(), {})
  t.is(procs.idle, 11, 'every process has its own (idle) bucket, not only the root')
  t.deepEqual([...procs.idleByProcess], [[100, 3], [200, 8]])
})

test('view: --function and -n merge the lines of a function into one frame', (t) => {
  const profile = twoThreads()
  t.is(viewFrames(profile, {}).frames.length, 6)
  const byFunction = viewFrames(profile, { function: true })
  t.is(byFunction.frames.length, 5)
  t.is(byFunction.frameIndex[1], byFunction.frameIndex[2])
  t.is(byFunction.frames[byFunction.frameIndex[1]].line, 18, 'labelled with the line the function starts on')
  const noLines = viewFrames(profile, { lineNumbers: false })
  t.is(noLines.frames[noLines.frameIndex[1]].line, undefined)
  t.is(noLines.frameIndex[1], noLines.frameIndex[2])
})

// ---------------------------------------------------------------- hostile names

test('hostile names survive every format unchanged, and the JSON has no raw "<"', (t) => {
  for (const text of [speedscopeJson(twoThreads(), { threads: true }), chromeTraceJson(twoThreads(), { threads: true })]) {
    t.false(text.includes('<'), 'a page inlining the file cannot be broken out of')
    t.true(text.includes('\\u003cimg src=x onerror=alert(1)>'))
  }
  const speedscope = validateSpeedscope(speedscopeJson(twoThreads(), { threads: true }))
  t.truthy(speedscope.file.shared.frames.find((f: any) => f.name === HOSTILE_NAME && f.file === HOSTILE_FILE))
  const trace = validateChromeTrace(chromeTraceJson(twoThreads(), { threads: true }))
  t.truthy(trace.events.find((e) => e.ph === 'B' && e.name === HOSTILE_NAME && e.args.file === HOSTILE_FILE))
  t.is(trace.threadNames.get('100/101'), `thread 101 (${HOSTILE_NAME})`)
  const pprof = validatePprof(toPprof(twoThreads(), { threads: true }))
  t.true(pprof.strings.includes(HOSTILE_NAME) && pprof.strings.includes(HOSTILE_FILE) && pprof.strings.includes(UNICODE_NAME))
})

// ---------------------------------------------------------------- speedscope

test('speedscope: schema-valid, a profile per thread plus (idle), weights in seconds', (t) => {
  const parsed = validateSpeedscope(speedscopeJson(twoThreads()))
  t.deepEqual([...parsed.folded.keys()], ['thread 100 (python)', `thread 101 (${HOSTILE_NAME})`, 'process 100 (idle): no thread held the GIL'])
  t.deepEqual(roundedEntries(parsed.folded.get('thread 100 (python)')!), { '<module>;work': 0.08, [`<module>;${HOSTILE_NAME}`]: 0.02 })
  t.deepEqual(roundedEntries(parsed.folded.get(`thread 101 (${HOSTILE_NAME})`)!), { 'Thread.run;work': 0.04 })
  t.deepEqual(roundedEntries(parsed.folded.get('process 100 (idle): no thread held the GIL')!), { '(idle)': 0.03 })
  t.is(parsed.file.profiles[parsed.file.activeProfileIndex].name, 'thread 100 (python)', 'the busiest profile opens first')
  const frames = parsed.file.shared.frames
  t.truthy(frames.find((f: any) => f.name === HOSTILE_NAME && f.file === HOSTILE_FILE && f.line === 1), 'hostile strings kept as data')
  t.falsy(frames.find((f: any) => f.name === UNICODE_NAME), 'frames outside the view are left out')
  t.is(frames.filter((f: any) => f.name === 'work').length, 2, 'lines 20 and 21 are two frames')
})

test('speedscope: --threads keeps every thread, unicode and all; perThread:false merges them', (t) => {
  const parsed = validateSpeedscope(speedscopeJson(twoThreads(), { threads: true }))
  t.deepEqual([...parsed.folded.values()].map((m) => Math.round(total(m) * 100)), [17, 17])
  const worker = parsed.folded.get(`thread 101 (${HOSTILE_NAME})`)!
  t.true(near(worker.get(`Thread.run;${UNICODE_NAME}`)!, 0.13))
  t.truthy(parsed.file.shared.frames.find((f: any) => f.name === UNICODE_NAME && f.file === UNICODE_FILE))
  const merged = validateSpeedscope(speedscopeJson(twoThreads(), { threads: true, perThread: false }))
  t.is(merged.file.profiles.length, 1)
  t.true(near(total([...merged.folded.values()][0]), 0.34))
  const mergedIdle = validateSpeedscope(speedscopeJson(twoThreads(), { perThread: false }))
  t.true(near([...mergedIdle.folded.values()][0].get('(idle)')!, 0.03), 'the (idle) bucket joins the single profile')
})

test('speedscope: --function and -n share one frame per function', (t) => {
  const byFunction = toSpeedscope(twoThreads(), { function: true })
  t.deepEqual(byFunction.shared.frames.filter((f) => f.name === 'work'), [{ name: 'work', file: '/srv/app.py', line: 18 }])
  const noLines = toSpeedscope(twoThreads(), { lineNumbers: false })
  t.deepEqual(noLines.shared.frames.filter((f) => f.name === 'work'), [{ name: 'work', file: '/srv/app.py' }])
  validateSpeedscope(JSON.stringify(noLines))
})

test('speedscope: with a timeline, samples keep their time order', (t) => {
  const file = toSpeedscope(withTimeline())
  validateSpeedscope(JSON.stringify(file))
  const main = file.profiles.find((p) => p.name === 'thread 100 (python)')!
  const lines = main.samples.map((stack) => stack.map((f) => file.shared.frames[f].line).join(','))
  t.deepEqual(lines, ['10,20', '10,21', '10,20'], 'ticks 0-1 merged, then tick 2, then tick 5')
  t.deepEqual(main.weights.map((w) => Math.round(w * 1000)), [20, 10, 10])
})

test('speedscope: an empty recording is still a file speedscope opens', (t) => {
  const parsed = validateSpeedscope(speedscopeJson(empty()))
  t.is(parsed.file.profiles.length, 1)
  t.is(parsed.file.shared.frames.length, 0)
})

// ---------------------------------------------------------------- Chrome trace

test('chrome trace: aggregated layout, one named track per thread and an (idle) track', (t) => {
  const parsed = validateChromeTrace(chromeTraceJson(twoThreads()))
  t.deepEqual(Object.fromEntries(parsed.folded.get('100/100')!), { '<module>;work': 80_000, [`<module>;${HOSTILE_NAME}`]: 20_000 })
  t.deepEqual(Object.fromEntries(parsed.folded.get('100/101')!), { 'Thread.run;work': 40_000 })
  t.deepEqual(Object.fromEntries(parsed.folded.get('100/0')!), { '(idle)': 30_000 })
  t.is(parsed.threadNames.get('100/101'), `thread 101 (${HOSTILE_NAME})`)
  t.is(parsed.processNames.get(100), 'python 100 (3.12.1) /usr/bin/python3.12')
  const begin = parsed.events.find((e) => e.ph === 'B' && e.name === HOSTILE_NAME)
  t.deepEqual(begin.args, { file: HOSTILE_FILE, line: 1 })
})

test('chrome trace: aggregated stacks sharing a prefix become one slice', (t) => {
  const parsed = validateChromeTrace(chromeTraceJson(twoThreads(), { function: true }))
  t.deepEqual(parsed.sequence.get('100/100'), ['B <module>@0', 'B work@0', 'E@80000', `B ${HOSTILE_NAME}@80000`, 'E@100000', 'E@100000'])
})

test('chrome trace: with a timeline, slices follow the real ticks', (t) => {
  const trace = toChromeTrace(withTimeline())
  const parsed = validateChromeTrace(JSON.stringify(trace))
  t.deepEqual(parsed.sequence.get('100/100'), [
    'B <module>@0', 'B work@0', 'E@20000', 'B work@20000', 'E@30000', 'E@30000', // lost the GIL at tick 3
    'B <module>@50000', 'B work@50000', 'E@60000', 'E@60000',
  ])
  t.deepEqual(parsed.sequence.get('100/101'), ['B Thread.run@40000', 'B work@40000', 'E@50000', 'E@50000'])
  t.deepEqual(parsed.sequence.get('100/0'), ['X (idle)@30000+10000'])
  t.regex(String(trace.otherData.timeAxis), /real time/)
  const threads = validateChromeTrace(chromeTraceJson(withTimeline(), { threads: true }))
  t.deepEqual(threads.sequence.get('100/100'), ['B <module>@0', 'B work@0', 'E@20000', 'B work@20000', 'E@50000', 'B work@50000', 'E@60000', 'E@60000'])
  t.is(threads.sequence.get('100/0'), undefined, 'no (idle) bucket with --threads')
})

test('chrome trace: subprocesses get a named process each, with its own (idle) track', (t) => {
  const parsed = validateChromeTrace(chromeTraceJson(twoProcesses()))
  t.deepEqual([...parsed.processNames.keys()].sort(), [100, 200])
  t.deepEqual(Object.fromEntries(parsed.folded.get('200/0')!), { '(idle)': 80_000 })
  t.deepEqual(Object.fromEntries(parsed.folded.get('200/200')!), { '<module>;work': 90_000 })
  t.is(parsed.threadNames.get('200/200'), 'thread 200 (gunicorn)')
})

test('chrome trace: a reused or unknown tid never shares a track', (t) => {
  const profile = twoThreads()
  profile.threads[1].tid = 100 // the kernel reused the main thread's id
  const parsed = validateChromeTrace(chromeTraceJson(profile, { threads: true }))
  const tracks = [...parsed.folded.keys()].filter((k) => !k.endsWith('/0'))
  t.is(tracks.length, 2)
  t.is(validateChromeTrace(chromeTraceJson(empty())).events.length, 0)
})

// ---------------------------------------------------------------- pprof

test('pprof: decodes, every id resolves, values are count and count × interval', (t) => {
  const profile = twoThreads()
  const parsed = validatePprof(toPprof(profile))
  t.deepEqual(parsed.sampleTypes, ['samples/count', 'cpu/nanoseconds'])
  t.is(parsed.periodType, 'cpu/nanoseconds')
  t.is(parsed.period, 10_000_000)
  t.is(parsed.strings[Number(parsed.profile.defaultSampleType)], 'cpu')
  t.is(BigInt(parsed.profile.timeNanos), BigInt(profile.startTimeMs) * 1_000_000n)
  t.deepEqual(Object.fromEntries(parsed.folded), {
    '<module>;work': [8, 80_000_000],
    [`<module>;${HOSTILE_NAME}`]: [2, 20_000_000],
    'Thread.run;work': [4, 40_000_000],
    '(idle)': [3, 30_000_000],
  })
  const counted = [...parsed.folded.values()].reduce((s, v) => s + v[0], 0)
  t.is(counted, profile.ticks, 'default view: one sample per tick')
  // A Function per (name, file), a Location per (function, line).
  const functionNames = parsed.profile.function.map((f) => parsed.strings[Number(f.name)])
  t.is(functionNames.filter((n) => n === 'work').length, 1)
  const workId = parsed.profile.function.find((f) => parsed.strings[Number(f.name)] === 'work')!.id
  const workLines = parsed.profile.location.filter((l) => l.line[0].functionId === workId).map((l) => Number(l.line[0].line))
  t.deepEqual(workLines.sort(), [20, 21])
  // Leaf first: the first location of the hostile sample is the hostile function.
  const hostile = parsed.profile.sample.find((s) => Number(s.value[0]) === 2)!
  const leaf = parsed.profile.location.find((l) => l.id === hostile.locationId[0])!
  t.is(parsed.strings[Number(parsed.profile.function.find((f) => f.id === leaf.line[0].functionId)!.name)], HOSTILE_NAME)
  t.deepEqual(parsed.labels[parsed.profile.sample.indexOf(hostile)], { pid: 100, thread: 'thread 100 (python)', tid: 100 })
})

test('pprof: --threads is wall time with gil and idle labels', (t) => {
  const parsed = validatePprof(toPprof(twoThreads(), { threads: true }))
  t.deepEqual(parsed.sampleTypes, ['samples/count', 'wall/nanoseconds'])
  const counts = parsed.profile.sample.map((s) => Number(s.value[0]))
  t.is(counts.reduce((a, b) => a + b, 0), 34)
  const idleCount = parsed.profile.sample.filter((_, i) => parsed.labels[i].idle === 'true').reduce((s, x) => s + Number(x.value[0]), 0)
  t.is(idleCount, 20)
  t.true(parsed.labels.every((l) => l.gil === 'true' || l.gil === 'false'))
  t.truthy(parsed.folded.get(`Thread.run;${UNICODE_NAME}`))
  const cpu = validatePprof(toPprof(twoThreads(), { threads: true, excludeIdle: true }))
  t.deepEqual(cpu.sampleTypes, ['samples/count', 'cpu/nanoseconds'], 'without idle threads the time is on-CPU')
})

test('pprof: --function gives one location per function; subprocesses one (idle) per process', (t) => {
  const parsed = validatePprof(toPprof(twoThreads(), { function: true }))
  t.is(parsed.profile.location.length, 4 /* <module>, work, hostile, Thread.run */ + 1 /* (idle) */)
  t.deepEqual(parsed.folded.get('<module>;work'), [8, 80_000_000])
  const procs = validatePprof(toPprof(twoProcesses()))
  const idle = procs.profile.sample.map((s, i) => [procs.labels[i], Number(s.value[0])] as const).filter(([l]) => l.thread === '(idle)')
  t.deepEqual(idle.map(([l, n]) => [l.pid, n]), [[100, 3], [200, 8]])
  const empties = validatePprof(toPprof(empty()))
  t.is(empties.profile.sample.length, 0)
})

const hasGo = spawnSync('go', ['version']).status === 0
if (!hasGo) console.log('go is not installed: the go tool pprof test is skipped (the decoder checks still run)')
;(hasGo ? test : test.skip)('pprof: go tool pprof reads the file', async (t) => {
  t.timeout(240_000) // the first `go tool pprof` of a machine compiles the tool
  const dir = mkdtempSync(path.join(tmpdir(), 'pyflame-formats-'))
  const file = path.join(dir, 'two.pb.gz')
  writeFileSync(file, toPprof(twoProcesses(), { threads: true }))
  const { stdout } = await run('go', ['tool', 'pprof', '-raw', file], { maxBuffer: 64 << 20 })
  t.regex(stdout, /PeriodType: wall nanoseconds/)
  t.regex(stdout, /Period: 10000000\b/)
  t.true(stdout.includes(UNICODE_NAME) && stdout.includes(HOSTILE_NAME))
  const sampleRows = [...stdout.matchAll(/^\s+(\d+)\s+(\d+): [\d ]+$/gm)]
  t.is(sampleRows.reduce((s, m) => s + Number(m[1]), 0), 34 + 17)
  const top = await run('go', ['tool', 'pprof', '-top', '-sample_index=samples', file])
  t.regex(top.stdout, new RegExp(`${UNICODE_NAME}`))
})
