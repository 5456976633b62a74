// What `top` shows: per function, the samples where it was running itself (own) and where it
// was anywhere on the stack (total), for the last refresh window and since `top` started.

import type { RawProfile } from '../types'
import { selectEntries } from '../writers/view'
import type { ViewOptions } from '../writers/view-options'

export interface FunctionRow {
  name: string
  filename: string
  /** The line the function starts on (rows aggregate every line of a function). */
  line: number
  /** Samples in the last window with this function innermost. */
  ownWindow: number
  /** Samples in the last window with this function anywhere on the stack (counted once). */
  totalWindow: number
  /** The same since `top` started. */
  ownAll: number
  totalAll: number
}

export interface WindowSummary {
  /** Sampling ticks in the window: the denominator of the percentages. */
  ticks: number
  /** Thread-samples counted in the window (with `--threads`, several per tick). */
  samples: number
  /** Ticks where no thread held the GIL. */
  gilIdleTicks: number
  errors: number
  threads: number
  /** Names of the threads counted in the window (Python's, else the kernel's), busiest first. */
  threadNames: string[]
  processes: number
}

export class FunctionStats {
  private readonly rows = new Map<string, FunctionRow>()
  /** Ticks since `top` started (for cumulative times). */
  totalTicks = 0
  totalSamples = 0
  lastWindow: WindowSummary = { ticks: 0, samples: 0, gilIdleTicks: 0, errors: 0, threads: 0, threadNames: [], processes: 0 }
  pythonVersion = ''

  constructor(private readonly view: ViewOptions) {}

  /** Adds one drained window; the previous window's figures are replaced. */
  addWindow(profile: RawProfile): void {
    for (const row of this.rows.values()) {
      row.ownWindow = 0
      row.totalWindow = 0
    }
    if (profile.pythonVersion) this.pythonVersion = profile.pythonVersion
    const keyOfFrame = profile.frames.map((f) => this.rowFor(f.name, f.filename, f.firstLine))
    const { entries } = selectEntries(profile, this.view)
    let samples = 0
    const threads = new Map<number, number>()
    for (const entry of entries) {
      const stack = profile.stacks[entry.stack]
      samples += entry.count
      threads.set(entry.thread, (threads.get(entry.thread) ?? 0) + entry.count)
      if (stack.length === 0) continue
      const leaf = keyOfFrame[stack[stack.length - 1]]
      leaf.ownWindow += entry.count
      leaf.ownAll += entry.count
      // A recursive function is on the stack once as far as "total" is concerned.
      const seen = new Set<FunctionRow>()
      for (const frame of stack) seen.add(keyOfFrame[frame])
      for (const row of seen) {
        row.totalWindow += entry.count
        row.totalAll += entry.count
      }
    }
    this.totalTicks += profile.ticks
    this.totalSamples += samples
    this.lastWindow = {
      ticks: profile.ticks,
      samples,
      gilIdleTicks: profile.gilIdleTicks,
      errors: profile.errors,
      threads: threads.size,
      threadNames: [...threads]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .map(([index]) => profile.threads[index]?.name ?? `thread ${profile.threads[index]?.tid ?? index}`),
      processes: new Set(profile.threads.map((t) => t.pid)).size,
    }
  }

  all(): FunctionRow[] {
    return [...this.rows.values()]
  }

  private rowFor(name: string, filename: string, line: number): FunctionRow {
    // NUL never occurs in identifiers or paths read as C strings: the key is unambiguous.
    const key = `${name}\0${filename}\0${line}`
    let row = this.rows.get(key)
    if (!row) {
      row = { name, filename, line, ownWindow: 0, totalWindow: 0, ownAll: 0, totalAll: 0 }
      this.rows.set(key, row)
    }
    return row
  }
}
