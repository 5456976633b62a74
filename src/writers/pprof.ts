// pprof: a gzip-compressed profile.proto (github.com/google/pprof/blob/main/proto/profile.proto),
// encoded by the `pprof-format` package. `go tool pprof` and most profile viewers read it.
// - A Function per (name, file); a Location per (function, line); samples list locations
//   leaf first (the reverse of folded stacks).
// - Two values per sample: `samples/count` and time in nanoseconds (count × interval). The time
//   is `cpu` when the view holds only running stacks and `wall` when it keeps idle threads
//   (`threads` without `excludeIdle`, or with `idle`), since those samples were not on a CPU.
// - Labels: `pid`, `thread`, `tid`; `gil` with `threads`; `idle` on idle threads' samples.
// - Pyflame's `(idle)` bucket (no thread held the GIL) is one `(idle)` sample per process.

import { gzipSync } from 'node:zlib'
import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format'
import type { RawProfile } from '../types'
import { selectEntries, threadLabel, viewLine } from './view'
import type { ViewOptions } from './view-options'

export type PprofOptions = ViewOptions

/**
 * The one mapping: the interpreter's executable. Python frames have no addresses, but pprof
 * tools name the profile's binary after the first mapping (and warn when there is none).
 */
const MAPPING_ID = 1

/** Function name of the location standing for the `(idle)` bucket. */
export const IDLE_FUNCTION_NAME = '(idle)'

/** Whether the view's samples include threads that were not running (so time is wall time). */
export function viewHasIdleThreads(opts: ViewOptions): boolean {
  return Boolean(opts.threads && !opts.gil && (!opts.excludeIdle || opts.idle))
}

/** Builds the decoded profile (useful to inspect or to encode differently). */
export function toPprofProfile(profile: RawProfile, opts: PprofOptions = {}): Profile {
  const strings = new StringTable()
  const functions: PprofFunction[] = []
  const functionIds = new Map<string, number>()
  const locations: Location[] = []
  const locationIds = new Map<string, number>()

  const functionId = (name: string, filename: string, startLine: number): number => {
    const key = `${name}\u0000${filename}`
    let id = functionIds.get(key)
    if (id === undefined) {
      id = functions.length + 1
      functions.push(new PprofFunction({ id, name: strings.dedup(name), systemName: strings.dedup(name), filename: strings.dedup(filename), startLine }))
      functionIds.set(key, id)
    }
    return id
  }
  const locationId = (fn: number, line: number): number => {
    const key = `${fn}:${line}`
    let id = locationIds.get(key)
    if (id === undefined) {
      id = locations.length + 1
      locations.push(new Location({ id, mappingId: MAPPING_ID, line: [new Line({ functionId: fn, line })] }))
      locationIds.set(key, id)
    }
    return id
  }
  // Location of each of the profile's frames, made on first use so unused frames are left out.
  const frameLocation = new Map<number, number>()
  const locationOfFrame = (frameIndex: number): number => {
    let id = frameLocation.get(frameIndex)
    if (id === undefined) {
      const frame = profile.frames[frameIndex]
      id = locationId(functionId(frame.name, frame.filename, frame.firstLine), viewLine(frame, opts) ?? 0)
      frameLocation.set(frameIndex, id)
    }
    return id
  }

  const intervalNs = Math.round(profile.intervalSecs * 1e9)
  const timeType = viewHasIdleThreads(opts) ? 'wall' : 'cpu'
  const view = selectEntries(profile, opts)
  const threadKeys = {
    pid: strings.dedup('pid'),
    thread: strings.dedup('thread'),
    tid: strings.dedup('tid'),
    gil: strings.dedup('gil'),
    idle: strings.dedup('idle'),
  }
  const yes = strings.dedup('true')
  const no = strings.dedup('false')

  // Entries that the view labels the same (e.g. lines merged by `function`) become one sample.
  const samples = new Map<string, { locationId: number[]; count: number; label: Label[] }>()
  for (const entry of view.entries) {
    const locationIdsLeafFirst = profile.stacks[entry.stack].map(locationOfFrame).reverse()
    if (locationIdsLeafFirst.length === 0) continue
    const thread = profile.threads[entry.thread]
    const key = `${locationIdsLeafFirst.join(',')}|${entry.thread}|${entry.gil}|${entry.idle}`
    const existing = samples.get(key)
    if (existing) {
      existing.count += entry.count
      continue
    }
    const label = [new Label({ key: threadKeys.pid, num: thread.pid }), new Label({ key: threadKeys.thread, str: strings.dedup(threadLabel(thread)) })]
    if (thread.tid > 0) label.push(new Label({ key: threadKeys.tid, num: thread.tid }))
    if (opts.threads) label.push(new Label({ key: threadKeys.gil, str: entry.gil ? yes : no }))
    if (entry.idle) label.push(new Label({ key: threadKeys.idle, str: yes }))
    samples.set(key, { locationId: locationIdsLeafFirst, count: entry.count, label })
  }
  for (const [pid, ticks] of view.idleByProcess) {
    const idleLocation = locationId(functionId(IDLE_FUNCTION_NAME, '', 0), 0)
    samples.set(`idle|${pid}`, {
      locationId: [idleLocation],
      count: ticks,
      label: [new Label({ key: threadKeys.pid, num: pid }), new Label({ key: threadKeys.thread, str: strings.dedup(IDLE_FUNCTION_NAME) })],
    })
  }

  const executable = profile.processes.find((p) => p.pid === profile.pid)?.executable ?? profile.processes[0]?.executable ?? 'python'
  const mapping = new Mapping({ id: MAPPING_ID, filename: strings.dedup(executable), hasFunctions: true, hasFilenames: true, hasLineNumbers: true })
  const sampleTypes = [
    new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
    new ValueType({ type: strings.dedup(timeType), unit: strings.dedup('nanoseconds') }),
  ]
  const comments = [
    `pyflame-ts: pid ${profile.pid}, Python ${profile.pythonVersion}`,
    `${profile.ticks} ticks, ${profile.missed} missed, ${profile.errors} errors, ${profile.gilIdleTicks} without a GIL holder, ended by ${profile.endReason}`,
  ]
  return new Profile({
    sampleType: sampleTypes,
    sample: [...samples.values()].map(
      (s) => new Sample({ locationId: s.locationId, value: [s.count, s.count * intervalNs], label: s.label }),
    ),
    mapping: [mapping],
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(profile.startTimeMs)) * 1_000_000n,
    durationNanos: Math.round(profile.durationSecs * 1e9),
    periodType: new ValueType({ type: strings.dedup(timeType), unit: strings.dedup('nanoseconds') }),
    period: intervalNs,
    comment: comments.map((c) => strings.dedup(c)),
    defaultSampleType: strings.dedup(timeType),
  })
}

/** The profile as a gzip-compressed profile.proto, as `go tool pprof` reads it. */
export function toPprof(profile: RawProfile, opts: PprofOptions = {}): Buffer {
  return gzipSync(toPprofProfile(profile, opts).encode())
}
