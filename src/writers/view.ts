// Which samples and frames a writer shows for a given ViewOptions. Every writer goes through
// here so that `--threads`, `--gil`, `-x`, `--idle`, `--function` and `-n` mean the same thing
// in folded, SVG, speedscope, Chrome trace and pprof output.

import type { ProfileEntry, ProfileFrame, ProfileThread, RawProfile, TimelineSample } from '../types'
import type { ViewOptions } from './view-options'

export interface ProfileView {
  /** The aggregated rows that count in this view, in the profile's order. */
  entries: ProfileEntry[]
  /**
   * Pyflame's `(idle)` bucket: ticks where no thread held the GIL, summed over the sampled
   * processes. 0 with `threads` (idle threads' own stacks are in `entries` then) or `excludeIdle`.
   */
  idle: number
  /** The same bucket split by process (pid → ticks), only processes with a non-zero count. */
  idleByProcess: Map<number, number>
}

type Sample = Pick<ProfileEntry, 'gil' | 'idle'>

/**
 * The one rule deciding whether a sample of one thread counts in the view. `noGil`: the
 * thread's process is free-threaded and runs without a GIL, so the default view (no GIL holder
 * to follow) counts every thread found on a CPU; the others go to `(idle)`.
 */
export function sampleInView(sample: Sample, opts: ViewOptions = {}, noGil = false): boolean {
  if (noGil && !opts.threads && !opts.gil) return !sample.idle
  if (!opts.threads || opts.gil) return sample.gil
  // The aggregator only marks a thread idle when it did not hold the GIL; `!gil` is a guard.
  if (sample.idle && !sample.gil && opts.excludeIdle && !opts.idle) return false
  return true
}

/** PIDs of the sampled processes that run without a GIL (free-threaded builds, GIL off). */
export function noGilProcesses(profile: RawProfile): Set<number> {
  return new Set(profile.processes.filter((p) => p.gilDisabled).map((p) => p.pid))
}

/** The entries in the view and the `(idle)` count that goes with them. */
export function selectEntries(profile: RawProfile, opts: ViewOptions = {}): ProfileView {
  const noGil = noGilProcesses(profile)
  const threadHasNoGil = (entry: ProfileEntry) => noGil.size > 0 && noGil.has(profile.threads[entry.thread]?.pid)
  const defaultView = !opts.threads && !opts.gil
  const entries: ProfileEntry[] = []
  for (const entry of profile.entries) {
    if (!sampleInView(entry, opts, threadHasNoGil(entry))) continue
    // Without a GIL the default view counts CPU time, in samples: samples that found a thread
    // on a CPU share its CPU time (crates/pyflame-core/src/sampler/on_cpu.rs).
    if (defaultView && entry.cpuCount !== undefined && entry.cpuCount !== null && threadHasNoGil(entry)) {
      if (entry.cpuCount > 0) entries.push({ ...entry, count: entry.cpuCount })
      continue
    }
    entries.push(entry)
  }
  const idleByProcess = new Map<number, number>()
  if (!opts.threads && !opts.gil && !opts.excludeIdle && noGil.size > 0) {
    // Without a GIL, `(idle)` counts the samples of threads that were not running.
    for (const entry of profile.entries) {
      if (!threadHasNoGil(entry) || !entry.idle) continue
      const pid = profile.threads[entry.thread].pid
      idleByProcess.set(pid, (idleByProcess.get(pid) ?? 0) + entry.count)
    }
  }
  if (!opts.threads && !opts.excludeIdle) {
    // Each process has its own GIL, so with --subprocesses every process has its own bucket.
    // The top-level `gilIdleTicks` covers only the root process; the summaries cover them all.
    if (profile.processes.length > 0) {
      for (const process of profile.processes) {
        if (noGil.has(process.pid)) continue
        if (process.gilIdleTicks > 0) {
          idleByProcess.set(process.pid, (idleByProcess.get(process.pid) ?? 0) + process.gilIdleTicks)
        }
      }
    } else if (profile.gilIdleTicks > 0) {
      idleByProcess.set(profile.pid, profile.gilIdleTicks)
    }
  }
  let idle = 0
  for (const ticks of idleByProcess.values()) idle += ticks
  return { entries, idle, idleByProcess }
}

/** The timestamped samples in the view (empty when the profile has no timeline). */
export function selectTimeline(profile: RawProfile, opts: ViewOptions = {}): TimelineSample[] {
  const noGil = noGilProcesses(profile)
  return (profile.timeline ?? []).filter((sample) => sampleInView(sample, opts, noGil.size > 0 && noGil.has(profile.threads[sample.thread]?.pid)))
}

/** A frame as the view labels it: `line` is undefined when line numbers are off or unknown. */
export interface ViewFrame {
  name: string
  filename: string
  line: number | undefined
}

/** The line a frame is labelled with under `opts`, or undefined for none. */
export function viewLine(frame: ProfileFrame, opts: ViewOptions = {}): number | undefined {
  if (opts.lineNumbers === false) return undefined
  const line = opts.function ? frame.firstLine : frame.line
  return line > 0 ? line : undefined
}

export interface ViewFrameTable {
  /** Distinct frames as labelled in the view. */
  frames: ViewFrame[]
  /** `frameIndex[i]` is the index in `frames` of the profile's frame `i`. */
  frameIndex: number[]
}

/**
 * Merges the profile's frames that the view labels the same (with `--function` or `-n`, all
 * lines of a function are one frame), so writers aggregate by what they show.
 */
export function viewFrames(profile: RawProfile, opts: ViewOptions = {}): ViewFrameTable {
  const frames: ViewFrame[] = []
  const byKey = new Map<string, number>()
  const frameIndex = profile.frames.map((frame) => {
    const line = viewLine(frame, opts)
    // NUL cannot occur in Python identifiers or paths read as C strings, so the key is unambiguous.
    const key = `${frame.name}\0${frame.filename}\0${line ?? ''}`
    let index = byKey.get(key)
    if (index === undefined) {
      index = frames.length
      frames.push({ name: frame.name, filename: frame.filename, line })
      byKey.set(key, index)
    }
    return index
  })
  return { frames, frameIndex }
}

/** How a thread is named in every format: `thread <tid> (<name>)`, with the process when asked. */
export function threadLabel(thread: ProfileThread, withProcess = false): string {
  const id = thread.tid > 0 ? `thread ${thread.tid}` : `thread ${thread.pythonThreadId}`
  const name = thread.name ? ` (${thread.name})` : ''
  const interpreter = thread.interpreterId > 0 ? ` interpreter ${thread.interpreterId}` : ''
  return `${withProcess ? `process ${thread.pid} ` : ''}${id}${name}${interpreter}`
}

/** Number of distinct processes the profile's threads and summaries cover. */
export function processCount(profile: RawProfile): number {
  const pids = new Set<number>(profile.processes.map((p) => p.pid))
  for (const thread of profile.threads) pids.add(thread.pid)
  return pids.size
}
