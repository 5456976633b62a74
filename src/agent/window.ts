// A window: what one process did during one drain of the fleet recording, encoded as the
// gzipped pprof Pyroscope ingests, with the time it was recorded (not the time it is sent).

import { gzipSync } from 'node:zlib'
import { Label } from 'pprof-format'
import type { RawProfile } from '../types'
import { toPprofProfile } from '../writers/pprof'
import { threadLabel } from '../writers/view'

export interface Window {
  pid: number
  /** Unix milliseconds when the window started and ended. */
  fromMs: number
  untilMs: number
  /** Ticks in the window (samples of this process). */
  samples: number
  /** The gzipped pprof. */
  body: Buffer
  /** `SERVICE{labels}` for `/ingest?name=`. */
  name: string
}

/** One profile per process of a drained window; frames and stacks stay shared. */
export function splitByProcess(window: RawProfile): Map<number, RawProfile> {
  const byPid = new Map<number, RawProfile>()
  const threadIndex = new Map<number, number>()
  for (const summary of window.processes) {
    byPid.set(summary.pid, {
      ...window,
      pid: summary.pid,
      pythonVersion: summary.pythonVersion,
      ticks: summary.ticks,
      gilIdleTicks: summary.gilIdleTicks,
      errors: summary.errors,
      threads: [],
      entries: [],
      processes: [summary],
      timeline: undefined,
    })
  }
  window.threads.forEach((thread, i) => {
    const profile = byPid.get(thread.pid)
    if (!profile) return
    threadIndex.set(i, profile.threads.length)
    profile.threads.push(thread)
  })
  for (const entry of window.entries) {
    const thread = window.threads[entry.thread]
    const profile = thread && byPid.get(thread.pid)
    if (!profile) continue
    profile.entries.push({ ...entry, thread: threadIndex.get(entry.thread)! })
  }
  return byPid
}

/**
 * The pprof of one process's window: CPU time of every thread that was running (as
 * Pyroscope's own Python integration records), without per-sample labels (pid, tid and GIL
 * would each make a series on the server) except the thread's name when asked.
 * Returns undefined when no thread ran during the window.
 */
export function encodeWindow(profile: RawProfile, threadLabels: boolean): Buffer | undefined {
  const pprof = toPprofProfile(profile, { threads: true, excludeIdle: true })
  if (pprof.sample.length === 0) return undefined
  const threadKey = pprof.stringTable.dedup('thread')
  const nameKey = pprof.stringTable.dedup('thread_name')
  // The writer labels each sample with `threadLabel(thread)`: map that back to the name.
  const nameOfLabel = new Map(profile.threads.map((t) => [pprof.stringTable.dedup(threadLabel(t)), t.name || 'unnamed']))
  for (const sample of pprof.sample) {
    const thread = sample.label.find((l) => l.key === threadKey)
    sample.label = []
    if (threadLabels && thread) {
      const name = nameOfLabel.get(Number(thread.str)) ?? 'unnamed'
      sample.label.push(new Label({ key: nameKey, str: pprof.stringTable.dedup(name) }))
    }
  }
  return gzipSync(pprof.encode())
}
