// The agent's windows are encoded natively (crates/pyflame-node/src/window_pprof.rs): each
// process's share of a fleet window must decode to the pprof the TypeScript writer gives for
// that process with `threads` and `excludeIdle`, its per-sample labels replaced by the thread
// name when asked (what the agent sent before the encoding moved to Rust).

import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Label, Profile as PprofProfile } from 'pprof-format'
import { native } from '../src/native'
import type { RawProfile } from '../src/types'
import { toPprofProfile } from '../src/writers/pprof'
import { threadLabel } from '../src/writers/view'
import { ROOT } from './helpers/cli'
import { spawnPython } from './helpers/pythons'

const PYTHON = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions', '3.12.1', 'bin', 'python3')

/** One process's window as the TypeScript writer encodes it; undefined when no thread ran. */
function referenceWindow(raw: RawProfile, pid: number, threadLabels: boolean): PprofProfile | undefined {
  const summary = raw.processes.find((p) => p.pid === pid)!
  const threadIndex = new Map<number, number>()
  const threads = raw.threads.filter((thread, i) => thread.pid === pid && threadIndex.set(i, threadIndex.size))
  const profile: RawProfile = {
    ...raw,
    pid,
    pythonVersion: summary.pythonVersion,
    ticks: summary.ticks,
    gilIdleTicks: summary.gilIdleTicks,
    errors: summary.errors,
    threads,
    entries: raw.entries.filter((e) => threadIndex.has(e.thread)).map((e) => ({ ...e, thread: threadIndex.get(e.thread)! })),
    processes: [summary],
    timeline: undefined,
  }
  const pprof = toPprofProfile(profile, { threads: true, excludeIdle: true })
  if (pprof.sample.length === 0) return undefined
  const threadKey = pprof.stringTable.dedup('thread')
  const nameOfLabel = new Map(threads.map((t) => [pprof.stringTable.dedup(threadLabel(t)), t.name || 'unnamed']))
  for (const sample of pprof.sample) {
    const thread = sample.label.find((l) => l.key === threadKey)
    sample.label = threadLabels && thread ? [new Label({ key: pprof.stringTable.dedup('thread_name'), str: pprof.stringTable.dedup(nameOfLabel.get(Number(thread.str))!) })] : []
  }
  return PprofProfile.decode(pprof.encode())
}

/** What a pprof says, with every string and id resolved (string-table order and ids aside). */
function content(p: PprofProfile) {
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]
  const functions = new Map(p.function.map((f) => [Number(f.id), f]))
  const locations = new Map(p.location.map((l) => [Number(l.id), l]))
  const frame = (id: number | bigint) => {
    const location = locations.get(Number(id))!
    const lines = location.line.map((line) => {
      const f = functions.get(Number(line.functionId))!
      return `${str(f.name)}|${str(f.systemName)}|${str(f.filename)}|${Number(f.startLine)}:${Number(line.line)}`
    })
    return `${lines.join(';')} in mapping ${Number(location.mappingId)}`
  }
  return {
    sampleType: p.sampleType.map((v) => `${str(v.type)}/${str(v.unit)}`),
    periodType: `${str(p.periodType!.type)}/${str(p.periodType!.unit)}`,
    period: Number(p.period),
    defaultSampleType: str(p.defaultSampleType),
    timeNanos: String(p.timeNanos),
    durationNanos: Number(p.durationNanos),
    comments: p.comment.map(str),
    mappings: p.mapping.map((m) => ({ id: Number(m.id), filename: str(m.filename), flags: [m.hasFunctions, m.hasFilenames, m.hasLineNumbers] })),
    locations: p.location.length,
    functions: p.function.length,
    samples: p.sample.map((s) => ({
      stack: s.locationId.map(frame),
      value: s.value.map(Number),
      labels: s.label.map((l) => `${str(l.key)}=${str(l.str)}${Number(l.num) ? `/${Number(l.num)}` : ''}`),
    })),
  }
}

function assertSameWindows(t: import('ava').ExecutionContext, raw: RawProfile): number {
  let compared = 0
  for (const threadLabels of [false, true]) {
    const window = native.agentWindowPprofs(raw, threadLabels)
    t.is(window.startTimeMs, raw.startTimeMs)
    t.is(window.durationSecs, raw.durationSecs)
    t.deepEqual(
      window.processes.map((p) => [p.pid, p.pythonVersion, p.ticks]),
      raw.processes.map((p) => [p.pid, p.pythonVersion, p.ticks]),
    )
    for (const process of window.processes) {
      const expected = referenceWindow(raw, process.pid, threadLabels)
      if (expected === undefined) {
        t.is(process.pprof, undefined, `PID ${process.pid}: no thread ran, nothing to send`)
        continue
      }
      t.truthy(process.pprof, `PID ${process.pid}: a window with samples`)
      t.deepEqual(content(PprofProfile.decode(gunzipSync(process.pprof!))), content(expected), `PID ${process.pid}, threadLabels ${threadLabels}`)
      compared += 1
    }
  }
  return compared
}

if (fs.existsSync(PYTHON)) {
  test('agent windows: each process of a recorded fleet window encodes natively to the pprof the TypeScript writer gives', async (t) => {
    const programs = path.join(ROOT, '__test__', 'programs')
    const named = await spawnPython(PYTHON, path.join(programs, 'named_threads.py'))
    t.teardown(() => named.kill())
    const spinner = await spawnPython(PYTHON, path.join(programs, 'agent_spinner.py'), [`window-pprof-${process.pid}`])
    t.teardown(() => spinner.kill())
    const fleet = new native.FleetRecording({ interval: 0.005, threadNames: true })
    const running = fleet.run() as Promise<RawProfile>
    t.teardown(() => fleet.stop())
    await fleet.attach(named.pid)
    await fleet.attach(spinner.pid)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const raw = (await fleet.drain()) as RawProfile
    fleet.stop()
    await running
    t.deepEqual(raw.processes.map((p) => p.pid).sort(), [named.pid, spinner.pid].sort())
    // Idle threads (worker-b, MainThread asleep) are in the window but not in its pprof.
    t.true(raw.entries.some((e) => e.idle && !e.gil))
    t.is(assertSameWindows(t, raw), 4)
    const names = native.agentWindowPprofs(raw, true).processes.flatMap((p) => {
      const pprof = PprofProfile.decode(gunzipSync(p.pprof!))
      return pprof.sample.flatMap((s) => s.label.map((l) => pprof.stringTable.strings[Number(l.str)]))
    })
    t.true(names.includes('worker-a'), names.join(', '))
    t.false(names.includes('worker-b'), 'a sleeping thread has no CPU sample')
  })
}

test('agent windows: frames with the same function and line merge, idle stacks and other processes are left out, an idle process has no pprof', (t) => {
  const thread = (pid: number, tid: number, name?: string) => ({ pid, tid, pythonThreadId: String(1000 + tid), interpreterId: 0, name })
  const summary = (pid: number, ticks: number) => ({
    pid,
    pythonVersion: '3.12.1',
    executable: `/usr/bin/python-${pid}`,
    ticks,
    gilIdleTicks: 3,
    errors: 1,
    errorKinds: [],
    freeThreaded: false,
    gilDisabled: false,
    notices: [],
    nativeFailures: 0,
  })
  const raw: RawProfile = {
    pid: 0,
    pythonVersion: '',
    startTimeMs: 1_765_000_000_123.6,
    durationSecs: 10.0004,
    intervalSecs: 0.01,
    ticks: 1000,
    missed: 2,
    gilIdleTicks: 0,
    errors: 0,
    errorKinds: [],
    nativeFailures: 0,
    frames: [
      { name: 'main', filename: 'app.py', line: 10, firstLine: 1 },
      { name: 'work', filename: 'app.py', line: 20, firstLine: 18 },
      // The same function and line as frame 1 (read from another code object): one location.
      { name: 'work', filename: 'app.py', line: 20, firstLine: 18 },
      { name: 'sleep', filename: 'app.py', line: 0, firstLine: 30 },
    ],
    stacks: [[0, 1], [0, 2], [0, 3], []],
    threads: [thread(1, 11, 'MainThread'), thread(1, 12, ''), thread(2, 21, 'MainThread'), thread(3, 31, 'stray')],
    entries: [
      { stack: 0, thread: 0, count: 5, gil: true, idle: false },
      { stack: 1, thread: 0, count: 7, gil: true, idle: false },
      { stack: 0, thread: 1, count: 2, gil: false, idle: false },
      { stack: 2, thread: 1, count: 40, gil: false, idle: true },
      { stack: 3, thread: 0, count: 1, gil: true, idle: false },
      { stack: 2, thread: 2, count: 90, gil: false, idle: true },
      { stack: 0, thread: 3, count: 9, gil: true, idle: false },
    ],
    processes: [summary(1, 1000), summary(2, 998)],
    subprocesses: false,
    endReason: 'stopped',
  }
  t.is(assertSameWindows(t, raw), 2)
  const [busy, idle] = native.agentWindowPprofs(raw, false).processes
  const pprof = PprofProfile.decode(gunzipSync(busy.pprof!))
  // Thread 11's two stacks are one sample (12 ticks); thread 12's running stack is its own.
  t.deepEqual(
    pprof.sample.map((s) => s.value.map(Number)),
    [
      [12, 120_000_000],
      [2, 20_000_000],
    ],
  )
  t.is(idle.pid, 2)
  t.is(idle.pprof, undefined)
})
