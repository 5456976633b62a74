// Sampling must not alias: a program whose loop has a period that fits the interval (1, 2, 5,
// 10, 20 ms against -r 0.001, 0.002, 0.005, 0.01) gets the shares it measures itself, within
// 2 percentage points, in both modes, on 3.8, 3.12 and the newest interpreter here. And a
// rate the machine cannot keep still ends on time, with the skipped samples reported.
//
// Statistics: a share's binomial error is √(p(1−p)/n); at p = 0.6 that is 0.49 pp with 10,000
// samples, so 2 pp is 4 standard errors. A recording at -r 0.01 takes 100 s to gather that
// many. So each (target, interval) is sampled by several recordings at once, each at the
// interval under test and each with its own random times, and their counts are summed: any
// bias one recording has (the aliasing this tests for) the sum has too, at a fraction of the
// noise. Blocking mode cannot put two tracers on one target, so it samples a target whose 10
// threads run the same clock-locked loop shifted by a tenth of a period each (`--threads`
// view), one recording per target.
//
// Grid (about 2.5 min): non-blocking, all four intervals at once on each target: 3.12 clock-
// locked loops of 1, 2, 5, 10, 20 ms and free-running loops of 2 and 10 ms; 3.8 and the newest
// interpreter clock-locked 1, 10, 20 ms and free-running 10 ms. Blocking, on each interpreter:
// sleeping 10-thread targets of 10 ms at -r 0.01, 2 ms at -r 0.002 and 20 ms at -r 0.005 at
// once; on 3.12 also the busy 10 ms clock-locked loop at -r 0.001 in the GIL holder's view.

import test from 'ava'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT } from './helpers/cli'
import { findPythons, majorMinor, spawnPython, type PythonInstall, type SpawnedPython } from './helpers/pythons'

const PROGRAM = path.join(__dirname, 'programs', 'periodic.py')
const HELPER = path.join(__dirname, 'helpers', 'record-periodic.js')
const SPLIT = [0.6, 0.3, 0.1]
const TOLERANCE_PP = 2
const INTERVALS = [0.001, 0.002, 0.005, 0.01]
/** Window of each non-blocking run; copies per interval bring every interval to ~2,000 samples/s pooled. */
const WINDOW_S = 5
const POOLED_HZ = 2000
/** Samples each (target, interval) needs: 2 pp is then 4 standard errors of a 60 % share. */
const MIN_SAMPLES = 10_000
/** A loaded machine misses samples: the window stretches until every interval has its samples. */
const MAX_WINDOW_S = 30

interface Counts {
  key: string
  alpha: number
  beta: number
  gamma: number
  total: number
  samples: number
  missed: number
  errors: number
  seconds: number
}

interface Truth {
  alpha: number
  beta: number
  gamma: number
  total: number
}

function pick(version: [number, number]): PythonInstall | undefined {
  return findPythons()
    .filter((p) => majorMinor(p.version)[0] === version[0] && majorMinor(p.version)[1] === version[1])
    .sort((a, b) => (a.kind === 'pyenv-shared' ? -1 : b.kind === 'pyenv-shared' ? 1 : 0))[0]
}

/** The newest interpreter pyflame-ts reads: Debian unstable's 3.14 when fetched, else the newest found. */
function newest(): PythonInstall | undefined {
  const launcher = '/var/cache/pyflame-ts/pythons/bin/python3.14'
  if (fs.existsSync(launcher)) return { label: 'debian-3.14', version: '3.14.0', path: launcher, kind: 'system' }
  return findPythons()
    .filter((p) => majorMinor(p.version)[0] === 3)
    .sort((a, b) => majorMinor(b.version)[1] - majorMinor(a.version)[1])[0]
}

/** Records all groups at once for `seconds`, longer (up to `maxSeconds`) until each has its `minTicks`. */
function recordTogether(seconds: number, maxSeconds: number, groups: object[], timeoutMs: number): Promise<Counts[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HELPER, JSON.stringify({ seconds, maxSeconds, groups })], { cwd: ROOT })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`recording helper failed (${code}): ${err}`))
      resolve(
        out
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Counts),
      )
    })
  })
}

/** The truth the target printed on SIGUSR2 (its last JSON line). */
async function truthOf(target: SpawnedPython): Promise<Truth> {
  const deadline = Date.now() + 5000
  for (;;) {
    const lines = target.stdout().split('\n').filter((l) => l.startsWith('{'))
    if (lines.length > 0) return JSON.parse(lines[lines.length - 1]) as Truth
    if (Date.now() > deadline) throw new Error('the target did not report its truth')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Errors of the three shares in percentage points, and a line for the test log. */
function compare(counts: Counts, truth: Truth): { worst: number; line: string } {
  const fns = ['alpha', 'beta', 'gamma'] as const
  const errors = fns.map((f) => (100 * counts[f]) / counts.total - (100 * truth[f]) / truth.total)
  const worst = Math.max(...errors.map(Math.abs))
  const shares = fns.map((f) => `${f} ${((100 * counts[f]) / counts.total).toFixed(1)}/${((100 * truth[f]) / truth.total).toFixed(1)}`).join(', ')
  return { worst, line: `${counts.key}: ${shares} (reported/true %), ${counts.total} samples, ${counts.missed} missed; worst ${worst.toFixed(2)} pp; truth ${JSON.stringify(truth)}` }
}

const interpreters: Array<{ py: PythonInstall; full: boolean }> = []
for (const [version, full] of [
  [[3, 8], false],
  [[3, 12], true],
] as const) {
  const py = pick(version as unknown as [number, number])
  if (py) interpreters.push({ py, full })
}
const latest = newest()
if (latest && !interpreters.some((i) => i.py.path === latest.path)) interpreters.push({ py: latest, full: false })

for (const { py, full } of interpreters) {
  const targets: Array<{ period: number; mode: 'clock' | 'free' }> = full
    ? [1, 2, 5, 10, 20].map((period) => ({ period, mode: 'clock' as const })).concat([2, 10].map((period) => ({ period, mode: 'free' as const })))
    : [1, 10, 20].map((period) => ({ period, mode: 'clock' as const })).concat([{ period: 10, mode: 'free' as const }])

  test.serial(`${py.label}: non-blocking shares of periodic loops within ${TOLERANCE_PP} pp at every interval`, async (t) => {
    t.timeout(targets.length * 60_000)
    const failures: string[] = []
    for (const { period, mode } of targets) {
      const target = await spawnPython(py.path, PROGRAM, [String(period), SPLIT.join(','), mode])
      try {
        const groups: object[] = INTERVALS.map((interval) => ({
          key: `${mode} ${period} ms, -r ${interval}`,
          pid: target.pid,
          interval,
          copies: Math.round(POOLED_HZ * interval),
          blocking: false,
          threads: false,
          minTicks: MIN_SAMPLES,
        }))
        // The control: exact periodic sampling does alias on a clock-locked loop of its period.
        const control = full && mode === 'clock' && period === 10
        if (control) groups.push({ key: 'control --periodic', pid: target.pid, interval: 0.01, copies: 1, blocking: false, threads: false, periodic: true })
        const results = await recordTogether(WINDOW_S, MAX_WINDOW_S, groups, 90_000)
        const truth = await truthOf(target)
        for (const counts of results) {
          const { worst, line } = compare(counts, truth)
          t.log(`${py.label} ${line}`)
          if (counts.key.startsWith('control')) {
            t.true(worst > 10, `exact periodic sampling should alias here: ${line}`)
            continue
          }
          t.true(counts.total >= 0.95 * MIN_SAMPLES, `enough samples: ${line}`)
          if (worst > TOLERANCE_PP) failures.push(line)
        }
      } finally {
        await target.kill()
      }
    }
    t.deepEqual(failures, [], 'every share within 2 pp of the truth')
  })

  test.serial(`${py.label}: blocking mode, shares of periodic loops within ${TOLERANCE_PP} pp`, async (t) => {
    t.timeout(150_000)
    const combos = [
      { period: 10, interval: 0.01 },
      { period: 2, interval: 0.002 },
      { period: 20, interval: 0.005 },
    ]
    const started: SpawnedPython[] = []
    try {
      for (const { period } of combos) started.push(await spawnPython(py.path, PROGRAM, [String(period), SPLIT.join(','), 'sleep', '10']))
      // 10 threads sampled per tick: 10 s at 100 Hz is 10,000 samples.
      const groups: object[] = combos.map(({ period, interval }, i) => ({ key: `sleep×10 ${period} ms, -r ${interval}`, pid: started[i].pid, interval, blocking: true, threads: true, minTicks: MIN_SAMPLES / 10 }))
      const results = await recordTogether(10, MAX_WINDOW_S, groups, 90_000)
      const failures: string[] = []
      for (const [i, counts] of results.entries()) {
        const { worst, line } = compare(counts, await truthOf(started[i]))
        t.log(`${py.label} ${line}`)
        t.true(counts.total >= 0.95 * MIN_SAMPLES, `enough samples: ${line}`)
        if (worst > TOLERANCE_PP) failures.push(line)
      }
      t.deepEqual(failures, [])
    } finally {
      for (const target of started) await target.kill()
    }
    if (!full) return
    // The busy loop itself, paused around each sample, in Pyflame's view (the GIL holder).
    const busy = await spawnPython(py.path, PROGRAM, ['10', SPLIT.join(','), 'clock'])
    try {
      const [counts] = await recordTogether(5, MAX_WINDOW_S, [{ key: 'clock 10 ms, -r 0.001, blocking', pid: busy.pid, interval: 0.001, blocking: true, threads: false, minTicks: MIN_SAMPLES }], 60_000)
      const { worst, line } = compare(counts, await truthOf(busy))
      t.log(`${py.label} ${line}`)
      t.true(counts.total >= 0.95 * MIN_SAMPLES, `enough samples: ${line}`)
      t.true(worst <= TOLERANCE_PP, line)
    } finally {
      await busy.kill()
    }
  })
}

test.serial('a rate the machine cannot keep still ends on time, and the skipped samples are reported', async (t) => {
  const py = pick([3, 12]) ?? interpreters[0]?.py
  if (!py) return t.pass('no Python 3 here')
  const target = await spawnPython(py.path, PROGRAM, ['10', SPLIT.join(','), 'free'])
  try {
    const { sample } = await import('../src/index')
    const seconds = 2
    const interval = 0.00001 // 100 kHz
    const profile = await sample({ pid: target.pid, seconds, rate: interval })
    t.log(`${profile.samples} samples + ${profile.missed} missed in ${profile.durationSecs.toFixed(3)} s (asked ${seconds / interval} at ${1 / interval} Hz)`)
    // A generous bound on the length (not a timing goal): the recording must not stretch.
    t.true(profile.durationSecs >= seconds - 0.05 && profile.durationSecs < seconds + 1, `lasted ${profile.durationSecs} s`)
    t.true(profile.missed > 0, 'missed samples are counted')
    const expected = profile.durationSecs / interval
    t.true(Math.abs(profile.samples + profile.missed - expected) < 0.05 * expected, `samples + missed = ${profile.samples + profile.missed}, expected ≈ ${Math.round(expected)}`)
  } finally {
    await target.kill()
  }
})
