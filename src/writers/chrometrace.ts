// Chrome Trace Event JSON, for chrome://tracing and Perfetto (ui.perfetto.dev). One track per
// sampled thread, named by `M` metadata events; each Python frame is a `B`/`E` slice; times are
// microseconds since the recording started.
//
// Time axis:
// - With a timeline (`timeline: true` when recording, e.g. `--flamechart`), slices follow the
//   real order of the samples: a frame opens at the first sample that shows it and closes at
//   the first tick of that process where the thread no longer shows it (or is not in the view,
//   e.g. it lost the GIL).
// - Without one, only aggregated counts exist, so each thread's distinct stacks are laid out
//   one after another, sorted by their frames so shared prefixes become one slice, each lasting
//   count × interval. That axis is not real time: it is a flame graph drawn as a trace.
// Pyflame's `(idle)` bucket (ticks where no thread held the GIL) is an extra `(idle)` track per
// process, as `X` slices.

import type { RawProfile, TimelineSample } from '../types'
import { selectEntries, selectTimeline, threadLabel, viewFrames, type ViewFrame } from './view'
import { profileJson } from './json'
import type { ViewOptions } from './view-options'

export interface ChromeTraceEvent {
  name?: string
  cat?: string
  ph: 'B' | 'E' | 'X' | 'M'
  /** Microseconds. */
  ts: number
  dur?: number
  pid: number
  tid: number
  args?: Record<string, string | number>
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[]
  displayTimeUnit: 'ms'
  otherData: Record<string, string | number>
}

export type ChromeTraceOptions = ViewOptions

const CATEGORY = 'python'
/** Track of the `(idle)` slices: tid 0 is no real thread of a Linux process. */
const IDLE_TID = 0
/** Synthetic track ids for threads whose tid is unknown or shared, far above Linux's pid_max (2^22). */
const SYNTHETIC_TID_BASE = 1 << 30
/** Size of the text pieces chromeTraceChunks yields. */
const CHUNK_CHARS = 1 << 20

/** Emits B/E events for one track, keeping the stack of open frames. */
class Track {
  readonly events: ChromeTraceEvent[] = []
  private open: number[] = []

  constructor(
    private readonly frames: ViewFrame[],
    readonly pid: number,
    readonly tid: number,
  ) {}

  /** Makes `stack` (root first) the open stack at time `ts`: closes what differs, opens the rest. */
  moveTo(stack: readonly number[], ts: number): void {
    let common = 0
    while (common < this.open.length && common < stack.length && this.open[common] === stack[common]) common++
    while (this.open.length > common) {
      // E repeats B's name and args: Chrome does not need them, but speedscope's importer
      // matches an E to its B by them and warns otherwise.
      this.events.push(this.event('E', this.open.pop()!, ts))
    }
    for (let depth = common; depth < stack.length; depth++) {
      this.events.push(this.event('B', stack[depth], ts))
      this.open.push(stack[depth])
    }
  }

  private event(ph: 'B' | 'E', frameIndex: number, ts: number): ChromeTraceEvent {
    const frame = this.frames[frameIndex]
    const args: Record<string, string | number> = { file: frame.filename }
    if (frame.line !== undefined) args.line = frame.line
    return { name: frame.name, cat: CATEGORY, ph, ts, pid: this.pid, tid: this.tid, args }
  }
}

interface TraceLayout {
  /** `M` events naming every process and track that has events. */
  metadata: ChromeTraceEvent[]
  /** The other events, one batch per track, made as they are consumed (bounded memory). */
  batches: Iterable<ChromeTraceEvent[]>
  otherData: ChromeTrace['otherData']
}

interface IdleSlice {
  pid: number
  ts: number
  dur: number
}

function layOut(profile: RawProfile, opts: ChromeTraceOptions): TraceLayout {
  const table = viewFrames(profile, opts)
  // Each profile stack mapped to view frames once, not once per sample.
  const viewStacks: Array<number[] | undefined> = []
  const viewStack = (stack: number): number[] => (viewStacks[stack] ??= profile.stacks[stack].map((f) => table.frameIndex[f]))
  const intervalUs = profile.intervalSecs * 1e6
  const view = selectEntries(profile, opts)
  const useTimeline = (profile.timeline?.length ?? 0) > 0

  // Tracks: one per thread, unique per process even when the kernel reused a tid.
  const trackTid: number[] = []
  const usedTids = new Set<string>()
  profile.threads.forEach((thread, index) => {
    let tid = thread.tid
    if (tid <= 0 || usedTids.has(`${thread.pid}/${tid}`)) tid = SYNTHETIC_TID_BASE + index
    usedTids.add(`${thread.pid}/${tid}`)
    trackTid.push(tid)
  })
  const newTrack = (threadIndex: number) => new Track(table.frames, profile.threads[threadIndex].pid, trackTid[threadIndex])

  let threadBatches: Iterable<ChromeTraceEvent[]>
  let shownThreads: number[]
  const idleSlices: IdleSlice[] = []
  if (useTimeline) {
    const byThread = samplesByThread(selectTimeline(profile, opts), viewStack)
    shownThreads = [...byThread.keys()].sort((a, b) => a - b)
    threadBatches = layOutTimeline(profile, byThread, shownThreads, viewStack, newTrack, intervalUs)
    if (view.idle > 0) idleSlices.push(...timelineIdleSlices(profile, intervalUs))
  } else {
    const byThread = stacksByThread(view.entries, viewStack)
    shownThreads = [...byThread.keys()].sort((a, b) => a - b)
    threadBatches = layOutAggregated(byThread, shownThreads, table.frames, newTrack, intervalUs)
    for (const [pid, ticks] of view.idleByProcess) idleSlices.push({ pid, ts: 0, dur: ticks * intervalUs })
  }
  const idleEvents = idleSlices.map(
    (slice): ChromeTraceEvent => ({ name: '(idle)', cat: CATEGORY, ph: 'X', ts: slice.ts, dur: slice.dur, pid: slice.pid, tid: IDLE_TID, args: { reason: 'no thread held the GIL' } }),
  )

  const metadata: ChromeTraceEvent[] = []
  const pids = new Set<number>(shownThreads.map((t) => profile.threads[t].pid))
  for (const slice of idleSlices) pids.add(slice.pid)
  for (const pid of pids) {
    const summary = profile.processes.find((p) => p.pid === pid)
    const version = summary?.pythonVersion ?? (pid === profile.pid ? profile.pythonVersion : '')
    const name = `python ${pid}${version ? ` (${version})` : ''}${summary?.executable ? ` ${summary.executable}` : ''}`
    metadata.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name } })
  }
  for (const threadIndex of shownThreads) {
    const thread = profile.threads[threadIndex]
    const tid = trackTid[threadIndex]
    metadata.push({ name: 'thread_name', ph: 'M', ts: 0, pid: thread.pid, tid, args: { name: threadLabel(thread) } })
    metadata.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: thread.pid, tid, args: { sort_index: threadIndex + 1 } })
  }
  for (const pid of new Set(idleSlices.map((s) => s.pid))) {
    metadata.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: IDLE_TID, args: { name: '(idle): no thread held the GIL' } })
  }

  return {
    metadata,
    batches: (function* () {
      yield* threadBatches
      if (idleEvents.length > 0) yield idleEvents
    })(),
    otherData: {
      exporter: 'pyflame-ts',
      pid: profile.pid,
      pythonVersion: profile.pythonVersion,
      startTime: new Date(profile.startTimeMs).toISOString(),
      intervalSecs: profile.intervalSecs,
      timeAxis: useTimeline ? 'real time (timeline samples)' : 'aggregated: stacks laid out one after another, count × interval each',
    },
  }
}

/** The whole trace as one object (for the Node API; large recordings should use the chunks). */
export function toChromeTrace(profile: RawProfile, opts: ChromeTraceOptions = {}): ChromeTrace {
  const { metadata, batches, otherData } = layOut(profile, opts)
  const traceEvents = [...metadata]
  for (const batch of batches) for (const event of batch) traceEvents.push(event)
  return { traceEvents, displayTimeUnit: 'ms', otherData }
}

/**
 * The trace as JSON text in pieces of about 1 MB, one event per line, for writing to a file
 * or stream: a long recording's trace can exceed what one JavaScript string may hold.
 */
export function* chromeTraceChunks(profile: RawProfile, opts: ChromeTraceOptions = {}): Generator<string> {
  const { metadata, batches, otherData } = layOut(profile, opts)
  let chunk = '{"traceEvents":['
  let first = true
  const append = (event: ChromeTraceEvent) => {
    chunk += (first ? '\n' : ',\n') + profileJson(event)
    first = false
  }
  for (const event of metadata) append(event)
  for (const batch of batches) {
    for (const event of batch) {
      append(event)
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk
        chunk = ''
      }
    }
  }
  yield `${chunk}\n],"displayTimeUnit":"ms","otherData":${profileJson(otherData)}}\n`
}

/** The trace as one JSON string (small profiles; see chromeTraceChunks for large ones). */
export function chromeTraceJson(profile: RawProfile, opts: ChromeTraceOptions = {}): string {
  let text = ''
  for (const chunk of chromeTraceChunks(profile, opts)) text += chunk
  return text
}

function samplesByThread(samples: TimelineSample[], viewStack: (stack: number) => number[]): Map<number, TimelineSample[]> {
  const byThread = new Map<number, TimelineSample[]>()
  for (const sample of samples) {
    let list = byThread.get(sample.thread)
    if (!list) byThread.set(sample.thread, (list = []))
    list.push(sample)
  }
  // A thread whose samples are all empty stacks gets no track.
  for (const [thread, list] of byThread) if (list.every((s) => viewStack(s.stack).length === 0)) byThread.delete(thread)
  return byThread
}

/** Real time order: per thread, the open stack changes where its samples change. */
function* layOutTimeline(
  profile: RawProfile,
  byThread: Map<number, TimelineSample[]>,
  threads: number[],
  viewStack: (stack: number) => number[],
  newTrack: (thread: number) => Track,
  intervalUs: number,
): Generator<ChromeTraceEvent[]> {
  const ticks = processTicks(profile)
  for (const threadIndex of threads) {
    const list = byThread.get(threadIndex)!.sort((a, b) => a.timeUs - b.timeUs)
    const track = newTrack(threadIndex)
    const processTimes = ticks.get(profile.threads[threadIndex].pid)!
    let previous: TimelineSample | undefined
    for (const sample of list) {
      if (previous) {
        // The thread left the view at the process's next tick after `previous`, if that came first.
        const next = nextTick(processTimes, previous.timeUs, intervalUs)
        if (next < sample.timeUs) track.moveTo([], next)
      }
      track.moveTo(viewStack(sample.stack), sample.timeUs)
      previous = sample
    }
    if (previous) track.moveTo([], nextTick(processTimes, previous.timeUs, intervalUs))
    yield track.events
  }
}

/** Sorted distinct times at which each process was sampled (any thread, in the view or not). */
function processTicks(profile: RawProfile): Map<number, { times: number[]; index: Map<number, number> }> {
  const sets = new Map<number, Set<number>>()
  for (const sample of profile.timeline ?? []) {
    const pid = profile.threads[sample.thread].pid
    let set = sets.get(pid)
    if (!set) sets.set(pid, (set = new Set()))
    set.add(sample.timeUs)
  }
  const result = new Map<number, { times: number[]; index: Map<number, number> }>()
  for (const [pid, set] of sets) {
    const times = [...set].sort((a, b) => a - b)
    result.set(pid, { times, index: new Map(times.map((t, i) => [t, i])) })
  }
  return result
}

function nextTick(ticks: { times: number[]; index: Map<number, number> }, time: number, intervalUs: number): number {
  const i = ticks.index.get(time)
  return i !== undefined && i + 1 < ticks.times.length ? ticks.times[i + 1] : time + intervalUs
}

/**
 * `(idle)` slices from the timeline: ticks of a process in which none of its threads held the
 * GIL, consecutive ones merged. Ticks whose read failed have no samples and show as no slice.
 */
function timelineIdleSlices(profile: RawProfile, intervalUs: number): IdleSlice[] {
  const holders = new Map<number, Set<number>>()
  for (const sample of profile.timeline ?? []) {
    if (!sample.gil) continue
    const pid = profile.threads[sample.thread].pid
    let set = holders.get(pid)
    if (!set) holders.set(pid, (set = new Set()))
    set.add(sample.timeUs)
  }
  const slices: IdleSlice[] = []
  for (const [pid, ticks] of processTicks(profile)) {
    const held = holders.get(pid) ?? new Set<number>()
    let current: IdleSlice | undefined
    for (const time of ticks.times) {
      if (held.has(time)) {
        current = undefined
        continue
      }
      const end = nextTick(ticks, time, intervalUs)
      if (current) current.dur = end - current.ts
      else slices.push((current = { pid, ts: time, dur: end - time }))
    }
  }
  return slices
}

type MergedStacks = Map<string, { stack: number[]; count: number }>

/** In-view entries per thread, merged where the view labels their stacks the same. */
function stacksByThread(entries: RawProfile['entries'], viewStack: (stack: number) => number[]): Map<number, MergedStacks> {
  const byThread = new Map<number, MergedStacks>()
  for (const entry of entries) {
    const stack = viewStack(entry.stack)
    if (stack.length === 0) continue
    let stacks = byThread.get(entry.thread)
    if (!stacks) byThread.set(entry.thread, (stacks = new Map()))
    const key = stack.join(',')
    const merged = stacks.get(key)
    if (merged) merged.count += entry.count
    else stacks.set(key, { stack, count: entry.count })
  }
  return byThread
}

/** No timeline: each thread's distinct stacks one after another, in frame order. */
function* layOutAggregated(
  byThread: Map<number, MergedStacks>,
  threads: number[],
  frames: ViewFrame[],
  newTrack: (thread: number) => Track,
  intervalUs: number,
): Generator<ChromeTraceEvent[]> {
  const labels = frames.map((f) => `${f.filename}\u0000${f.name}\u0000${String(f.line ?? 0).padStart(10, '0')}`)
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i] === b[i]) continue
      return labels[a[i]] < labels[b[i]] ? -1 : labels[a[i]] > labels[b[i]] ? 1 : a[i] - b[i]
    }
    return a.length - b.length
  }
  for (const threadIndex of threads) {
    const track = newTrack(threadIndex)
    let cursor = 0
    for (const { stack, count } of [...byThread.get(threadIndex)!.values()].sort((a, b) => compare(a.stack, b.stack))) {
      track.moveTo(stack, cursor)
      cursor += count * intervalUs
    }
    track.moveTo([], cursor)
    yield track.events
  }
}
