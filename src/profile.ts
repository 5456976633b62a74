// The typed profile returned by `sample()`, with conversions to every output format.

import type { ChromeTrace } from './writers/chrometrace'
import { foldedLines, type FoldedOptions } from './writers/folded'
import type { SpeedscopeFile } from './writers/speedscope'
import type { ViewOptions } from './writers/view-options'
import type { FlamegraphOptions } from './flamegraph/options'
import type { RawProfile } from './types'
import type { FunctionShare } from './stats/shares'

export class Profile {
  constructor(readonly raw: RawProfile) {}

  /** The PID that was sampled. */
  get pid(): number {
    return this.raw.pid
  }

  /** Exact CPython version of the target, e.g. `3.12.1`. */
  get pythonVersion(): string {
    return this.raw.pythonVersion
  }

  /** Sampling ticks taken. */
  get samples(): number {
    return this.raw.ticks
  }

  /**
   * Sampling times skipped because the sampler was still busy with an earlier sample (the
   * machine could not keep the rate). `samples + missed` estimates `durationSecs / interval`.
   */
  get missed(): number {
    return this.raw.missed
  }

  /** Requested mean interval between samples, in seconds. */
  get interval(): number {
    return this.raw.intervalSecs
  }

  /** Ticks whose stacks failed validation and were dropped. */
  get errors(): number {
    return this.raw.errors
  }

  /** With `native`: thread samples whose native stack could not be unwound (kept with a `(native unwind failed)` frame). */
  get nativeFailures(): number {
    return this.raw.nativeFailures ?? 0
  }

  /** Ticks in which no thread held the GIL (Pyflame's `(idle)`). */
  get idle(): number {
    return this.raw.gilIdleTicks
  }

  get durationSecs(): number {
    return this.raw.durationSecs
  }

  /** Why recording ended: `duration`, `stopped` or `target-exited`. */
  get endReason(): string {
    return this.raw.endReason
  }

  /** Samples per thread in the all-threads view. */
  threadTotals(): Array<{ pid: number; tid: number; name?: string; samples: number; gilSamples: number; idleSamples: number }> {
    const totals = this.raw.threads.map((t) => ({ pid: t.pid, tid: t.tid, name: t.name, samples: 0, gilSamples: 0, idleSamples: 0 }))
    for (const entry of this.raw.entries) {
      const total = totals[entry.thread]
      total.samples += entry.count
      if (entry.gil) total.gilSamples += entry.count
      if (entry.idle) total.idleSamples += entry.count
    }
    return totals
  }

  /**
   * The functions the samples were spent in (innermost frame), largest first, each share with
   * the half-width of its 95 % confidence interval in percentage points (binomial model).
   */
  functionShares(options: ViewOptions & { top?: number } = {}): { total: number; shares: FunctionShare[] } {
    const { functionShares } = require('./stats/shares') as typeof import('./stats/shares')
    return functionShares(this.raw, options, options.top ?? 5)
  }

  /** Pyflame's folded text: `path:function:line;... count` lines, root first, `(idle) N`. */
  toFolded(options: FoldedOptions = {}): string {
    let text = ''
    for (const line of foldedLines(this.raw, options)) text += line + '\n'
    return text
  }

  foldedLines(options: FoldedOptions = {}): Iterable<string> {
    return foldedLines(this.raw, options)
  }

  /** speedscope's file format (one sampled profile per thread, shared frames). */
  toSpeedscope(options: ViewOptions = {}): SpeedscopeFile {
    return (require('./writers/speedscope') as typeof import('./writers/speedscope')).toSpeedscope(this.raw, options)
  }

  /** Chrome trace events (chrome://tracing, Perfetto). */
  toChromeTrace(options: ViewOptions = {}): ChromeTrace {
    return chromeTrace().toChromeTrace(this.raw, options)
  }

  toChromeTraceJson(options: ViewOptions = {}): string {
    return chromeTrace().chromeTraceJson(this.raw, options)
  }

  /** gzip-compressed pprof `profile.proto` (for `go tool pprof`). */
  toPprof(options: ViewOptions = {}): Buffer {
    return (require('./writers/pprof') as typeof import('./writers/pprof')).toPprof(this.raw, options)
  }

  /** An interactive SVG flame graph (hover, click to zoom, regex search with Matched %). */
  async toSvg(options: FoldedOptions & { flamegraph?: FlamegraphOptions; flamechart?: boolean } = {}): Promise<string> {
    let svg = ''
    const { writeProfile } = await import('./writers')
    await writeProfile(this, 'svg', options, { write: (chunk) => (svg += String(chunk)) }, { flamegraph: options.flamegraph, flamechart: options.flamechart })
    return svg
  }

  /** The interactive HTML report: flame graph, icicle, function table, sandwich, search, metadata; one self-contained file. */
  async toHtml(options: FoldedOptions & { title?: string; commandLine?: string } = {}): Promise<string> {
    let html = ''
    const { writeProfile } = await import('./writers')
    await writeProfile(this, 'html', options, { write: (chunk) => (html += String(chunk)) }, { flamegraph: { title: options.title }, commandLine: options.commandLine })
    return html
  }

  toJSON(): RawProfile {
    return this.raw
  }
}

// The writers of other formats load on first use: `dump`, `--version` and folded output start
// faster without them (pprof's protobuf encoder alone is ~10 ms of module loading).
function chromeTrace(): typeof import('./writers/chrometrace') {
  return require('./writers/chrometrace') as typeof import('./writers/chrometrace')
}
